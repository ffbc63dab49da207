import Testing
@testable import BitNet

/// End-to-end logits on the golden models against the float64 reference with
/// paper numerics (`<model>.paper.f32`), using the golden README's tolerances.
@Suite struct GoldenLogitsTests {
    static let models = SharedData.goldenModels.map { String($0.dropLast(".gguf".count)) }

    struct Metrics: CustomStringConvertible {
        var maxAbs: Float = 0, meanAbs: Float = 0, minCos: Double = 1, argmaxAgree = 0, positions = 0
        var description: String { "max \(maxAbs) mean \(meanAbs) cos \(minCos) argmax \(argmaxAgree)/\(positions)" }
    }

    /// compare.py's metrics; argmax agrees when our argmax's reference logit is within tieEps of the reference max.
    static func compare(_ ours: [Float], _ reference: [Float], vocab: Int, tieEps: Float = 0.25) -> Metrics {
        var m = Metrics()
        m.positions = reference.count / vocab
        var total: Float = 0
        for p in 0..<m.positions {
            let a = ours[(p * vocab)..<((p + 1) * vocab)], b = reference[(p * vocab)..<((p + 1) * vocab)]
            var dot = 0.0, na = 0.0, nb = 0.0
            for (x, y) in zip(a, b) {
                let d = abs(x - y)
                m.maxAbs = max(m.maxAbs, d)
                total += d
                dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y)
            }
            m.minCos = min(m.minCos, dot / (na.squareRoot() * nb.squareRoot()))
            let ourArgmax = a.indices.max { a[$0] < a[$1] }!
            if b[ourArgmax] >= b.max()! - tieEps { m.argmaxAgree += 1 }
        }
        m.meanAbs = total / Float(reference.count)
        return m
    }

    static func tokens(_ name: String) throws -> [Int32] {
        let bytes = try #require(GoldenData.readFile(SharedData.golden(name + ".tokens.txt")))
        return String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int32($0) }
    }

    static func floats(_ path: String) throws -> [Float] {
        let bytes = try #require(GoldenData.readFile(path))
        return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// All positions' logits, evaluated in `chunk`-token calls.
    static func run(_ name: String, kv: KVType, chunk: Int, batch: Int = 64, threads: Int = 2,
                    kernels: KernelSet = .selected, lmHead: LMHeadStorage = .asStored,
                    hugePages: Bool = true) throws -> [Float] {
        var loadOptions = ModelLoadOptions()
        loadOptions.lmHead = lmHead
        loadOptions.useHugePages = hugePages
        let model = try Model.load(path: SharedData.golden(name + ".gguf"), options: loadOptions)
        var options = ContextOptions()
        options.kvType = kv
        options.allLogits = true
        options.batchSize = batch
        options.threads = threads
        options.kernels = kernels
        let context = try Context(model: model, options: options)
        let ids = try tokens(name)
        var logits: [Float] = []
        var start = 0
        while start < ids.count {
            let end = min(start + chunk, ids.count)
            try ids[start..<end].withUnsafeBufferPointer { try context.eval($0) }
            for row in 0..<(end - start) { logits += try #require(context.logits(row: row)) }
            start = end
        }
        return logits
    }

    @Test(arguments: models)
    func f32CacheMatchesPaperReferenceTightly(name: String) throws {
        let reference = try Self.floats(SharedData.golden(name + ".paper.f32"))
        let ours = try Self.run(name, kv: .f32, chunk: 64)
        let m = Self.compare(ours, reference, vocab: 512)
        print("\(name) f32 KV, one batch: \(m)")
        // A careful f32 engine: m1 0.145 / m2 6e-6 max per the golden README.
        #expect(m.maxAbs <= 0.2)
        #expect(m.meanAbs <= 0.02)
        #expect(m.argmaxAgree == 64)
    }

    @Test(arguments: models)
    func f16CacheWithinGoldenTolerances(name: String) throws {
        let reference = try Self.floats(SharedData.golden(name + ".paper.f32"))
        let ours = try Self.run(name, kv: .f16, chunk: 64)
        let m = Self.compare(ours, reference, vocab: 512)
        print("\(name) f16 KV: \(m)")
        #expect(m.maxAbs <= 0.5)
        #expect(m.meanAbs <= 0.07)
        #expect(m.minCos >= 0.999)
        #expect(m.argmaxAgree >= 62)
    }

    /// Token by token, odd chunks and small batches give the same numbers as one
    /// batch: the batch path and the single-token path compute identically.
    @Test func chunkingDoesNotChangeLogits() throws {
        let name = "m2-bitnet-silu-tq2_0"
        let whole = try Self.run(name, kv: .f32, chunk: 64)
        let single = try Self.run(name, kv: .f32, chunk: 1, threads: 1)
        let odd = try Self.run(name, kv: .f32, chunk: 13, batch: 5)
        let m1 = Self.compare(single, whole, vocab: 512), m2 = Self.compare(odd, whole, vocab: 512)
        #expect(m1.maxAbs <= 1e-4, "\(m1)")
        #expect(m2.maxAbs <= 1e-4, "\(m2)")
    }

    /// The whole forward pass with every kernel set the CPU supports gives the
    /// same logits as the Swift reference kernels (integer dots are exact; only
    /// the LM head's float summation order differs).
    @Test(arguments: KernelSet.allCases.filter(\.isSupportedByCPU))
    func everyKernelSetMatchesTheReferenceKernels(kernels: KernelSet) throws {
        let name = "m1-b158-relu2-i2_s"
        let reference = try Self.run(name, kv: .f32, chunk: 64, kernels: .reference)
        let ours = try Self.run(name, kv: .f32, chunk: 64, kernels: kernels)
        let m = Self.compare(ours, reference, vocab: 512, tieEps: 0)
        #expect(m.maxAbs <= 1e-3, "\(m)")
        #expect(m.argmaxAgree == 64)
    }

    /// The optional 8-bit LM head. The golden embeddings are multiples of a
    /// per-32 scale with a 4-bit mantissa, so Q8_0 holds them exactly: the
    /// requantized head must reproduce the F16 logits up to summation order
    /// and the int16 rounding of x its kernels use (|error| <= Σ|w|·max|x|/65534
    /// per logit; 3e-4 measured here).
    /// (Its real, lossy effect is measured on the trained model.)
    @Test func q8LMHeadIsExactOnQ8RepresentableEmbeddings() throws {
        let name = "m2-bitnet-silu-tq2_0"
        let stored = try Self.run(name, kv: .f32, chunk: 64)
        let q8 = try Self.run(name, kv: .f32, chunk: 64, lmHead: .q8_0)
        let m = Self.compare(q8, stored, vocab: 512, tieEps: 0)
        print("Q8_0 LM head vs stored F16: \(m)")
        #expect(m.maxAbs <= 1e-3)
        #expect(m.argmaxAgree == 64)
    }

    /// Where the weights live (huge-page arena and a copied head, or 4 KB
    /// pages and the head read from the mapping) must not change a bit.
    @Test(arguments: [LMHeadStorage.asStored, .q8_0])
    func hugePagesDoNotChangeLogits(lmHead: LMHeadStorage) throws {
        let name = "m1-b158-relu2-i2_s"
        let huge = try Self.run(name, kv: .f32, chunk: 64, lmHead: lmHead, hugePages: true)
        let small = try Self.run(name, kv: .f32, chunk: 64, lmHead: lmHead, hugePages: false)
        #expect(huge == small)
    }
}
