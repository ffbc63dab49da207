/// The bytes of every token, concatenated in one array: 128K small arrays
/// would cost 128K allocations and a pointer chase per lookup.
struct PieceTable: Sendable {
    private var bytes: [UInt8] = []
    /// Token i is `bytes[starts[i] ..< starts[i + 1]]`.
    private var starts: [Int] = [0]

    init(count: Int) {
        starts.reserveCapacity(count + 1)
    }

    var count: Int { starts.count - 1 }

    mutating func append(_ piece: [UInt8]) {
        bytes.append(contentsOf: piece)
        starts.append(bytes.count)
    }

    /// The piece of token `index` (must be in 0..<count).
    subscript(index: Int) -> ArraySlice<UInt8> {
        bytes[starts[index]..<starts[index + 1]]
    }
}
