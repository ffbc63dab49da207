@testable import BitNet

/// Models, contexts and token streams for the KV cache tests.
enum CacheTestSupport {
    static func golden(_ name: String = "m1-b158-relu2-i2_s") throws -> Model {
        try Model.load(path: SharedData.golden(name + ".gguf"))
    }

    /// The golden m1 weights cut to one layer: every layer-0 key and value
    /// depends only on its own token and position, so a shifted context must
    /// reproduce a fresh one exactly up to the re-rotation's rounding.
    static func oneLayer() throws -> Model {
        let source = try golden("m1-bitnet-relu2-tq2_0").file
        var writer = GGUFWriter()
        for key in source.metadataKeys {
            guard let value = source.metadata[key] else { continue }
            writer.add(key, key.hasSuffix(".block_count") ? .uint32(1) : value)
        }
        for tensor in source.tensors where !tensor.name.hasPrefix("blk.1.") {
            let start = source.dataOffset + tensor.offset
            let bytes = Array(source.rawBytes[start..<(start + tensor.byteCount)])
            writer.addTensor(tensor.name, type: tensor.type, dims: tensor.dims, data: bytes)
        }
        return try Model(file: GGUFFile(bytes: writer.bytes()))
    }

    static func context(_ model: Model, kv: KVType = .f32, nCtx: Int = 512, batch: Int = 64, allLogits: Bool = false,
                        prefixBytes: Int = 64 << 20, policy: EvictionPolicy = .leastRecentlyUsed,
                        auto: Bool = false, keep: Int = 4) throws -> Context {
        var options = ContextOptions()
        options.kvType = kv
        options.contextLength = nCtx
        options.batchSize = batch
        options.threads = 2
        options.allLogits = allLogits
        options.prefixCacheBytes = prefixBytes
        options.prefixEviction = policy
        options.prefixCacheAuto = auto
        options.keepOnShift = keep
        return try Context(model: model, options: options)
    }

    /// `count` pseudo-random ids in 1..<vocab (id 0 never appears, so prompts
    /// built from different seeds differ at the first token).
    static func tokens(_ count: Int, seed: UInt64, vocab: Int = 512) -> [Int32] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int32(1 + rng.next() % UInt64(vocab - 1)) }
    }

    static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return Int32(best)
    }

    /// Greedy continuation of `steps` tokens from the context's last logits.
    static func greedy(_ context: Context, steps: Int) throws -> [Int32] {
        var out: [Int32] = []
        for _ in 0..<steps {
            guard let logits = context.logits(row: -1) else { throw BitNetError(.internal, "no logits") }
            let next = argmax(logits)
            out.append(next)
            try [next].withUnsafeBufferPointer { try context.eval($0) }
        }
        return out
    }

    static func eval(_ context: Context, _ ids: [Int32]) throws {
        try ids.withUnsafeBufferPointer { try context.eval($0) }
    }

    static func lastLogits(_ context: Context) throws -> [Float] {
        guard let row = context.logits(row: -1) else { throw BitNetError(.internal, "no logits") }
        return Array(row)
    }

    static func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}
