import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
@testable import BitNet

@Suite struct ContextStateTests {
    typealias S = CacheTestSupport

    static func saved(_ context: Context) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: try context.stateSize())
        let written = try bytes.withUnsafeMutableBytes { try context.saveState(into: $0) }
        #expect(written == bytes.count)
        return bytes
    }

    static func load(_ context: Context, _ bytes: [UInt8]) -> BitNetError? {
        caught { try bytes.withUnsafeBytes { try context.loadState(from: $0) } }
    }

    /// Save, load into a fresh context, continue: the same greedy tokens as
    /// never having saved, for every KV type.
    @Test(arguments: KVType.allCases)
    func saveLoadContinueMatchesAnUninterruptedRun(kv: KVType) throws {
        let model = try S.golden()
        let original = try S.context(model, kv: kv, nCtx: 400)
        try original.ingest(prompt: S.tokens(300, seed: 1))
        original.stateExtra = [42, 0xDEAD_BEEF]
        let bytes = try Self.saved(original)
        let restored = try S.context(model, kv: kv, nCtx: 400)
        try restored.ingest(prompt: [3, 4, 5])   // something to replace
        #expect(Self.load(restored, bytes) == nil)
        #expect(restored.tokens == original.tokens)
        #expect(restored.stateExtra == [42, 0xDEAD_BEEF])
        #expect(try S.lastLogits(restored) == (try S.lastLogits(original)))
        #expect(try S.greedy(restored, steps: 12) == (try S.greedy(original, steps: 12)))
    }

    @Test func filesRoundTripAtomically() throws {
        let model = try S.golden()
        let context = try S.context(model)
        try context.ingest(prompt: S.tokens(50, seed: 2))
        let path = "/tmp/bitnet-state-test-\(getpid()).bin"
        defer { unlink(path) }
        try context.saveState(path: path)
        try context.saveState(path: path)  // over an existing file
        #expect(access(path + ".tmp-\(getpid())", F_OK) != 0)
        let other = try S.context(model)
        try other.loadState(path: path)
        #expect(other.tokens == context.tokens)
        #expect(try S.greedy(other, steps: 5) == (try S.greedy(context, steps: 5)))
        #expect(caught { try other.loadState(path: "/nonexistent/dir/state") }?.status == .io)
        #expect(caught { try other.saveState(path: "/nonexistent/dir/state") }?.status == .io)
    }

    /// Truncated, corrupted and foreign states are refused and change nothing.
    @Test func badStatesAreRejectedAndLeaveTheContextUnchanged() throws {
        let model = try S.golden()
        let source = try S.context(model)
        try source.ingest(prompt: S.tokens(40, seed: 3))
        let good = try Self.saved(source)

        let target = try S.context(model)
        try target.ingest(prompt: S.tokens(7, seed: 4))
        let tokensBefore = target.tokens, logitsBefore = try S.lastLogits(target)
        func unchanged() throws {
            #expect(target.tokens == tokensBefore)
            #expect(try S.lastLogits(target) == logitsBefore)
        }

        for cut in [0, 10, 95, good.count / 2, good.count - 1] {
            #expect(Self.load(target, Array(good[..<cut]))?.status == .format, "cut at \(cut)")
        }
        try unchanged()
        for position in stride(from: 0, to: good.count, by: max(1, good.count / 97)) {
            var bad = good
            bad[position] ^= 0x10
            let status = Self.load(target, bad)?.status
            #expect(status == .format || status == .stateMismatch, "flip at \(position): \(String(describing: status))")
        }
        try unchanged()
        #expect(Self.load(target, good + [0])?.status == .format)

        // Another model (same shape, other weights and architecture name).
        let m2 = try S.context(try S.golden("m2-bitnet-silu-tq2_0"))
        #expect(Self.load(m2, good)?.status == .stateMismatch)
        // Another KV type, or too many tokens for this context.
        #expect(Self.load(try S.context(model, kv: .f16), good)?.status == .stateMismatch)
        #expect(Self.load(try S.context(model, nCtx: 32), good)?.status == .stateMismatch)
        try unchanged()
        #expect(Self.load(target, good) == nil)
        #expect(target.tokens == source.tokens)
    }

    @Test func fingerprintsTellModelsApart() throws {
        let a = try S.golden("m1-b158-relu2-i2_s"), b = try S.golden("m1-bitnet-relu2-tq2_0")
        #expect(a.fingerprint == (try S.golden("m1-b158-relu2-i2_s")).fingerprint)
        #expect(a.fingerprint != b.fingerprint)
        // Same shape, tensor table and architecture, other weights (m1 vs m2 are
        // both TQ2_0 "bitnet" files; m2 is SiLU and seed 2, so its metadata differs too).
        var writer = GGUFWriter()
        let file = b.file
        for key in file.metadataKeys { if let value = file.metadata[key] { writer.add(key, value) } }
        for tensor in file.tensors {
            let start = file.dataOffset + tensor.offset
            var bytes = Array(file.rawBytes[start..<(start + tensor.byteCount)])
            if tensor.name == "blk.1.ffn_down.weight" { bytes[bytes.count / 2] = bytes[bytes.count / 2] == 0x55 ? 0xAA : 0x55 }
            writer.addTensor(tensor.name, type: tensor.type, dims: tensor.dims, data: bytes)
        }
        let changed = try Model(file: GGUFFile(bytes: writer.bytes()))
        #expect(changed.fingerprint != b.fingerprint)
    }

    @Test func anEmptyContextSavesAndLoads() throws {
        let model = try S.golden()
        let bytes = try Self.saved(try S.context(model))
        let target = try S.context(model)
        try target.ingest(prompt: [1, 2, 3])
        #expect(Self.load(target, bytes) == nil)
        #expect(target.tokens.isEmpty && target.logits(row: -1) == nil)
    }
}
