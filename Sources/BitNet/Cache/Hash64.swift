/// FNV-1a style 64-bit hashing, a word at a time: fast enough to checksum a
/// whole KV cache, not cryptographic (it catches corruption, not tampering).
struct Hash64 {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    mutating func combine(_ word: UInt64) {
        value = (value ^ word) &* Hash64.prime
        value ^= value >> 29
    }

    mutating func combine(_ int: Int) { combine(UInt64(bitPattern: Int64(int))) }

    mutating func combine(_ text: String) {
        combine(text.utf8.count)
        // The pointer is only valid inside the closure (escaping it was a use after free).
        let utf8 = Array(text.utf8)
        utf8.withUnsafeBytes { combine(bytes: $0) }
    }

    /// Eight bytes per step, then the tail byte by byte.
    mutating func combine(bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let words = bytes.count / 8
        for i in 0..<words { combine(base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) }
        for i in (words * 8)..<bytes.count { combine(UInt64(bytes[i]) | 0x100) }
    }
}

extension Model {
    /// Identifies the network a saved state belongs to: hyperparameters, the
    /// tensor table (names, types, shapes, offsets) and 3 × 256 sampled bytes
    /// (start, middle, end) of every tensor's data, so two files of the same
    /// shape with other weights differ too. Hashing every weight would cost a
    /// full read of the model per save; the samples touch a few pages.
    package var fingerprint: UInt64 {
        var h = Hash64()
        let hp = hparams
        h.combine(hp.architectureName)
        h.combine(hp.activation.rawValue)
        for n in [hp.nVocab, hp.nEmbd, hp.nLayer, hp.nHead, hp.nHeadKV, hp.nFF, hp.nRot] { h.combine(n) }
        h.combine(UInt64(hp.ropeTheta.bitPattern))
        h.combine(UInt64(hp.rmsEps.bitPattern))
        h.combine(file.tensors.count)
        for tensor in file.tensors {
            h.combine(tensor.name)
            h.combine(Int(tensor.type.id))
            h.combine(tensor.dims.count)
            for d in tensor.dims { h.combine(d) }
            h.combine(tensor.offset)
            h.combine(tensor.byteCount)
            combineSamples(of: tensor, into: &h)
        }
        return h.value
    }

    private func combineSamples(of tensor: GGUFTensorInfo, into h: inout Hash64) {
        let raw = file.rawBytes
        // Vocab-only files have no tensor data; offsets were validated at load otherwise.
        guard !isVocabOnly, let base = raw.baseAddress, tensor.byteCount > 0 else { return }
        let start = file.dataOffset + tensor.offset
        guard start >= 0, start <= raw.count - tensor.byteCount else { return }
        let sample = min(256, tensor.byteCount)
        for offset in [0, (tensor.byteCount - sample) / 2, tensor.byteCount - sample] {
            h.combine(bytes: UnsafeRawBufferPointer(start: base + start + offset, count: sample))
        }
    }
}
