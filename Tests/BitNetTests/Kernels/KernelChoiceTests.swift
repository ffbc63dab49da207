import Testing
@testable import BitNet

/// A context's kernel set is the one owner of kernel choice: every kernel and
/// float helper of its forward pass, KV writes and reads and activation
/// quantization runs the set the context was created with, whatever the
/// process default (`KernelSet.selected`) is.
@Suite struct KernelChoiceTests {
    static let name = "m1-b158-relu2-i2_s"

    static func context(kernels: KernelSet, kv: KVType, batch: Batch? = nil) throws -> Context {
        let model = try Model.load(path: SharedData.golden(name + ".gguf"))
        var options = ContextOptions()
        options.kvType = kv
        options.allLogits = true
        // One thread: the whole pass runs on the caller's thread, where
        // HelperTrace counts.
        options.threads = 1
        options.kernels = kernels
        options.batch = batch
        return try Context(model: model, options: options)
    }

    /// Every position's logits of the golden prompt, in one eval.
    static func logits(of context: Context) throws -> [Float] {
        let ids = try GoldenLogitsTests.tokens(name)
        try ids.withUnsafeBufferPointer { try context.eval($0) }
        var out: [Float] = []
        for row in 0..<ids.count { out += try #require(context.logits(row: row)) }
        return out
    }

    /// FNV-1a over the logits' bit patterns.
    static func fingerprint(_ values: [Float]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in values {
            hash ^= UInt64(value.bitPattern)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// The SIMD set of this CPU to compare against, if it has one.
    static var vectorSet: KernelSet? {
        KernelSet.compiledIn.first { $0 != .reference && $0.isSupportedByCPU }
    }

    #if os(Linux) && arch(x86_64)
    /// A `.reference` context gives, bit for bit, the logits of a process run
    /// with `BITNET_KERNELS=reference` before the kernel choice moved into the
    /// context (every helper forced to its reference twin then): recorded with
    /// that build. Linux x86-64 only, where they were recorded (RoPE's table
    /// comes from the platform's cos/sin).
    @Test(arguments: [(KVType.f16, UInt64(0xe9a2_dcab_3131_ce13)), (.f32, 0xb599_ca69_2ccb_1076),
                      (.q8, 0xe9a2_dcab_3131_ce13)])
    func referenceContextGivesThePureReferenceLogits(kv: KVType, expected: UInt64) throws {
        let logits = try Self.logits(of: Self.context(kernels: .reference, kv: kv))
        #expect(logits.count == 64 * 512)
        #expect(Self.fingerprint(logits) == expected, "\(kv): 0x\(String(Self.fingerprint(logits), radix: 16))")
    }
    #endif

    #if DEBUG
    /// The helpers dispatch on the context's set, not a process-wide switch:
    /// a `.reference` context never takes a vector helper loop and a SIMD
    /// context never takes a reference twin, in one process. (With the
    /// process-wide switch this context kind ran the vector helpers.)
    @Test(arguments: [KVType.f16, .q8, .f32])
    func everyHelperFollowsTheContextsSet(kv: KVType) throws {
        let reference = try Self.context(kernels: .reference, kv: kv)
        let referenceCounts = try HelperTrace.counting { _ = try Self.logits(of: reference) }
        #expect(reference.count == 64)
        #expect(referenceCounts.vector == 0, "\(kv): \(referenceCounts)")
        #expect(referenceCounts.reference > 0, "\(kv): \(referenceCounts)")
        guard let vectorSet = Self.vectorSet else { return }
        let vector = try Self.context(kernels: vectorSet, kv: kv)
        let vectorCounts = try HelperTrace.counting { _ = try Self.logits(of: vector) }
        #expect(vector.count == 64)
        #expect(vectorCounts.reference == 0, "\(kv) \(vectorSet): \(vectorCounts)")
        #expect(vectorCounts.vector > 0, "\(kv) \(vectorSet): \(vectorCounts)")
    }
    #endif

    /// A batched context runs its batch's set, its KV cache included.
    @Test func batchedContextTakesTheBatchsSet() throws {
        let model = try Model.load(path: SharedData.golden(Self.name + ".gguf"))
        var batchOptions = BatchOptions()
        batchOptions.threads = 1
        batchOptions.kernels = .reference
        let batch = try Batch(model: model, options: batchOptions)
        var options = ContextOptions()
        options.kernels = Self.vectorSet ?? .reference
        options.batch = batch
        let context = try Context(model: model, options: options)
        #expect(context.cache.kernels == .reference)
        let alone = try Self.context(kernels: .reference, kv: .f16)
        #expect(alone.cache.kernels == .reference)
    }

    /// A set the CPU lacks is refused when the context is created, instead
    /// of trapping on its first instruction.
    @Test func unsupportedSetIsRefused() throws {
        for kernels in KernelSet.allCases where !kernels.isSupportedByCPU {
            #expect(throws: BitNetError.self) { _ = try Self.context(kernels: kernels, kv: .f16) }
        }
    }
}
