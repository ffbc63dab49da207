#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A context's state as bytes: tokens, KV, the last logits and `stateExtra`.
///
/// Layout (little-endian; every count is checked against the buffer on load):
///
///     0   magic "BNSTATE\0"            8 bytes
///     8   version (1)                  u32
///     12  KV type (BITNET_KV_*)        u32
///     16  model fingerprint            u64
///     24  layers, kv heads, head dim, recent window          u64 × 4
///     56  tokens n, cold prefix, extra words, logits floats,
///         snapshot bytes                                     u64 × 5
///     96  tokens i32[n] (padded to 8) · extra u64[] · logits f32[] (padded to 8)
///         · KVCache snapshot of positions 0..<n
///     end checksum (Hash64 of every byte before it)          u64
enum ContextStateFormat {
    static let magic: [UInt8] = Array("BNSTATE".utf8) + [0]
    static let version: UInt32 = 1
    static let headerBytes = 96

    static func padded8(_ n: Int) -> Int { (n + 7) / 8 * 8 }
}

extension Context {
    /// Bytes `saveState(into:)` writes for the current state.
    package func stateSize() throws(BitNetError) -> Int {
        let parts = [ContextStateFormat.headerBytes,
                     ContextStateFormat.padded8(tokens.count * 4),
                     stateExtra.count * 8,
                     ContextStateFormat.padded8(savedLogitCount * 4),
                     cache.snapshotBytes(count: tokens.count),
                     8]
        var total = 0
        for part in parts {
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { throw .invalidArgument("state size overflows") }
            total = sum
        }
        return total
    }

    /// The last position's logits are saved when the last eval kept them.
    private var savedLogitCount: Int { logits(row: -1) == nil ? 0 : model.hparams.nVocab }

    /// Writes the state to `buffer`; returns the bytes written.
    /// Errors: BITNET_E_BUFFER_TOO_SMALL (nothing meaningful written).
    @discardableResult
    package func saveState(into buffer: UnsafeMutableRawBufferPointer) throws(BitNetError) -> Int {
        let size = try stateSize()
        guard let base = buffer.baseAddress, buffer.count >= size else {
            throw BitNetError(.bufferTooSmall, "the state needs \(size) bytes, the buffer has \(buffer.count)")
        }
        memset(base, 0, size)
        var offset = 0
        func put<T: FixedWidthInteger>(_ value: T) {
            (base + offset).storeBytes(of: value.littleEndian, as: T.self)
            offset += MemoryLayout<T>.size
        }
        for byte in ContextStateFormat.magic { put(byte) }
        put(ContextStateFormat.version)
        put(UInt32(bitPattern: cache.type.rawValue))
        put(model.fingerprint)
        let logitCount = savedLogitCount
        for n in [cache.layers, cache.heads, cache.headDim, cache.recentWindow, tokens.count, sequence.exactPrefixLength,
                  stateExtra.count, logitCount, cache.snapshotBytes(count: tokens.count)] {
            put(UInt64(n))
        }
        for token in tokens { put(token) }
        offset = ContextStateFormat.padded8(offset)
        for word in stateExtra { put(word) }
        if let row = logits(row: -1), logitCount > 0 {
            (base + offset).copyMemory(from: row.baseAddress!, byteCount: logitCount * 4)
            offset = ContextStateFormat.padded8(offset + logitCount * 4)
        }
        cache.writeSnapshot(count: tokens.count, to: base + offset)
        offset += cache.snapshotBytes(count: tokens.count)
        var hash = Hash64()
        hash.combine(bytes: UnsafeRawBufferPointer(start: base, count: offset))
        put(hash.value)
        return offset
    }

    /// Replaces the context's state by the one in `bytes`. Everything is
    /// checked before anything changes: on any error the context is as before.
    /// Errors: BITNET_E_FORMAT (not a state, truncated, corrupted: checksum),
    /// BITNET_E_STATE_MISMATCH (another model, KV type or shape, or more
    /// tokens than this context holds).
    package func loadState(from bytes: UnsafeRawBufferPointer) throws(BitNetError) {
        guard let base = bytes.baseAddress, bytes.count >= ContextStateFormat.headerBytes + 8 else {
            throw .format("state: \(bytes.count) bytes is too short for a state")
        }
        var offset = 0
        func get<T: FixedWidthInteger>(_: T.Type) -> T {
            defer { offset += MemoryLayout<T>.size }
            return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        func getCount(_ what: String) throws(BitNetError) -> Int {
            let raw = get(UInt64.self)
            guard raw <= UInt64(Int.max) else { throw .format("state: \(what) \(raw) is absurd") }
            return Int(raw)
        }
        guard (0..<8).allSatisfy({ get(UInt8.self) == ContextStateFormat.magic[$0] }) else {
            throw .format("state: not a bitnet state (bad magic)")
        }
        let version = get(UInt32.self)
        guard version == ContextStateFormat.version else {
            throw .format("state: format version \(version); this library reads \(ContextStateFormat.version)")
        }
        let rawType = Int32(bitPattern: get(UInt32.self))
        let fingerprint = get(UInt64.self)
        let layers = try getCount("layers"), heads = try getCount("heads"), headDim = try getCount("head dim")
        let window = try getCount("window")
        let count = try getCount("token count"), cold = try getCount("cold prefix")
        let extraCount = try getCount("extra words"), logitCount = try getCount("logits")
        let snapshotBytes = try getCount("snapshot bytes")

        // Sizes first, so a truncated file says so rather than "corrupted".
        var expected = ContextStateFormat.headerBytes
        for (part, what) in [(count, "tokens"), (extraCount, "extra words"), (logitCount, "logits")] {
            guard part <= bytes.count else { throw .format("state: \(part) \(what) do not fit in \(bytes.count) bytes") }
        }
        for part in [ContextStateFormat.padded8(count * 4), extraCount * 8,
                     ContextStateFormat.padded8(logitCount * 4), snapshotBytes, 8] {
            let (sum, overflow) = expected.addingReportingOverflow(part)
            guard !overflow else { throw .format("state: section sizes overflow") }
            expected = sum
        }
        guard expected == bytes.count else {
            throw .format("state: the header describes \(expected) bytes, the data has \(bytes.count) (truncated or damaged)")
        }
        var hash = Hash64()
        hash.combine(bytes: UnsafeRawBufferPointer(start: base, count: bytes.count - 8))
        guard hash.value == base.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self).littleEndian else {
            throw .format("state: checksum mismatch (the data is corrupted)")
        }

        guard fingerprint == model.fingerprint else {
            throw BitNetError(.stateMismatch, "state: saved from another model (fingerprint \(fingerprint), this model \(model.fingerprint))")
        }
        guard rawType == cache.type.rawValue, layers == cache.layers, heads == cache.heads, headDim == cache.headDim,
              window == cache.recentWindow else {
            throw BitNetError(.stateMismatch, "state: KV type \(rawType) with \(layers)×\(heads)×\(headDim) (window \(window)); "
                              + "this context has type \(cache.type.rawValue) with \(cache.layers)×\(cache.heads)×\(cache.headDim) (window \(cache.recentWindow))")
        }
        guard count <= capacity else {
            throw BitNetError(.stateMismatch, "state: \(count) tokens do not fit this context's n_ctx \(capacity)")
        }
        guard cold <= count, logitCount == 0 || logitCount == model.hparams.nVocab,
              snapshotBytes == cache.snapshotBytes(count: count) else {
            throw .format("state: inconsistent header (cold prefix \(cold), logits \(logitCount), snapshot \(snapshotBytes) bytes)")
        }
        var newTokens = [Int32](repeating: 0, count: count)
        let vocab = model.hparams.nVocab
        for i in 0..<count {
            let token = get(Int32.self)
            guard token >= 0, Int(token) < vocab else { throw .format("state: token \(i) has id \(token), outside the vocabulary") }
            newTokens[i] = token
        }
        offset = ContextStateFormat.padded8(offset)
        var extra = [UInt64](repeating: 0, count: extraCount)
        for i in 0..<extraCount { extra[i] = get(UInt64.self) }
        let logitsOffset = offset
        offset += ContextStateFormat.padded8(logitCount * 4)
        let logitsTarget = logitCount > 0 ? try logitsBuffer(floats: logitCount) : nil

        // Checked: from here on nothing fails.
        if let logitsTarget {
            UnsafeMutableRawPointer(logitsTarget).copyMemory(from: base + logitsOffset, byteCount: logitCount * 4)
        }
        cache.restore(snapshot: base + offset, storedCount: count, positions: 0..<count)
        sequence.restore(tokens: newTokens, exactPrefixLength: cold, logitRows: logitCount > 0 ? 1 : 0)
        stateExtra = extra
    }
}
