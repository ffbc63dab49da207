/// Every text token of a vocabulary in one byte trie, stored flat in
/// preorder so a walk is a forward scan that can skip whole subtrees: when
/// the grammar rejects a prefix, every token starting with it is rejected by
/// one jump (`subtreeEnd`).
///
/// Control, unknown and unused tokens and tokens with no bytes are left out:
/// a grammar constrains text, and end-of-text tokens are decided separately
/// (allowed exactly where the grammar may end).
final class TokenTrie: Sendable {
    let vocabularySize: Int
    /// Per node, in preorder: the byte on the edge into it, its depth (1 = a
    /// child of the root), and the index just past its subtree.
    let bytes: [UInt8]
    let depths: [UInt16]
    let subtreeEnds: [Int32]
    /// Tokens whose bytes end at node i: `tokens[tokenStarts[i] ..< tokenStarts[i + 1]]`.
    let tokenStarts: [Int32]
    let tokens: [Int32]
    let maxDepth: Int
    /// Each token's bytes (empty for tokens not in the trie), to check one token alone.
    let pieces: PieceTable
    let inTrie: [Bool]

    var nodeCount: Int { bytes.count }

    init(tokenizer: Tokenizer) {
        let n = tokenizer.vocabularySize
        vocabularySize = n
        pieces = tokenizer.pieces
        var included = [Bool](repeating: false, count: n)
        var ids: [Int32] = []
        for id in 0..<n {
            switch tokenizer.tokenType(Int32(id)) {
            case .normal, .userDefined, .byte, .undefined:
                if !tokenizer.pieces[id].isEmpty {
                    included[id] = true
                    ids.append(Int32(id))
                }
            default:
                break
            }
        }
        inTrie = included
        let pieces = tokenizer.pieces
        ids.sort { a, b in
            let x = pieces[Int(a)], y = pieces[Int(b)]
            return x.lexicographicallyPrecedes(y) || (x.elementsEqual(y) && a < b)
        }
        // Sorted pieces enter the trie in preorder: each new piece shares its
        // longest common prefix with the path of the previous one.
        var bytes: [UInt8] = [], depths: [UInt16] = [], subtreeEnds: [Int32] = []
        var nodeOfToken: [(node: Int32, token: Int32)] = []
        var path: [Int32] = []      // node index at each depth of the current path
        var previous = ArraySlice<UInt8>()
        var maxDepth = 0
        for id in ids {
            let piece = pieces[Int(id)]
            let common = zip(previous, piece).prefix { $0 == $1 }.count
            while path.count > common {
                subtreeEnds[Int(path.removeLast())] = Int32(bytes.count)
            }
            for byte in piece.dropFirst(common) {
                path.append(Int32(bytes.count))
                bytes.append(byte)
                depths.append(UInt16(clamping: path.count))
                subtreeEnds.append(0)
            }
            maxDepth = max(maxDepth, path.count)
            nodeOfToken.append((path.last!, id))
            previous = piece
        }
        while let node = path.popLast() { subtreeEnds[Int(node)] = Int32(bytes.count) }
        var starts = [Int32](repeating: 0, count: bytes.count + 1)
        for entry in nodeOfToken { starts[Int(entry.node) + 1] += 1 }
        for i in 0..<bytes.count { starts[i + 1] += starts[i] }
        self.bytes = bytes
        self.depths = depths
        self.subtreeEnds = subtreeEnds
        self.tokenStarts = starts
        self.tokens = nodeOfToken.map(\.token)  // already grouped by node, in node order
        self.maxDepth = maxDepth
    }

    // MARK: - One trie per tokenizer

    /// Building the trie for 128k tokens takes tens of milliseconds; keep the
    /// last few, keyed by tokenizer identity (weakly, so a freed model frees its trie).
    private struct Entry: @unchecked Sendable {
        weak var tokenizer: Tokenizer?
        let trie: TokenTrie
    }
    private static let cache = Locked<[Entry]>([])

    static func shared(for tokenizer: Tokenizer) -> TokenTrie {
        if let hit = cache.withLock({ entries in entries.first { $0.tokenizer === tokenizer }?.trie }) { return hit }
        let trie = TokenTrie(tokenizer: tokenizer)
        cache.withLock { entries in
            entries.removeAll { $0.tokenizer == nil || $0.tokenizer === tokenizer }
            entries.append(Entry(tokenizer: tokenizer, trie: trie))
            if entries.count > 4 { entries.removeFirst() }
        }
        return trie
    }
}
