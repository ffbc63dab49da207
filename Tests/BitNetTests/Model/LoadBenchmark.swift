import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a 2B4T-shaped I2_S model (n_embd 2560, 30 layers, 20/5 heads, n_ff
/// 6912, vocab 128256, tied F16 embedding, the Llama 3 tokenizer from
/// Tests/Fixtures/vocab; random weights, ~1.2 GB) to /tmp and times loading it.
/// Opt-in, never part of a normal run:
///
///     BITNET_BENCH_MODEL_LOAD=1 swift test --filter LoadBenchmark
///
/// The numbers in BENCHMARKS.md come from the release CLI on that file.
@Suite struct LoadBenchmark {
    static let path = "/tmp/bitnet-bench-2b4t-i2_s.gguf"

    @Test(.enabled(if: getenv("BITNET_BENCH_MODEL_LOAD") != nil))
    func loadTwoBillionShapedModel() throws {
        if access(Self.path, R_OK) != 0 {
            try Self.writeModel()
        }
        let clock = ContinuousClock()
        var model: Model?
        let elapsed = try clock.measure { model = try Model.load(path: Self.path) }
        let loaded = try #require(model)
        #expect(loaded.hparams.nLayer == 30 && loaded.hparams.nVocab == 128_256 && loaded.weightType == .i2_s)
        print("loaded \(Self.path) (\(loaded.fileSize) bytes) in \(elapsed) [debug build]")
    }

    static func writeModel() throws {
        let vocab = try GGUFFile(path: SharedData.vocab("ggml-vocab-llama-bpe.gguf"))
        let nEmbd = 2560, nLayer = 30, nHead = 20, nHeadKV = 5, nFF = 6912, nVocab = 128_256
        let kvDim = nEmbd / nHead * nHeadKV
        var w = GGUFWriter()
        let a = "bitnet-b1.58."
        w.add("general.architecture", .string("bitnet-b1.58"))
        w.add("general.name", .string("synthetic 2B4T-shaped benchmark model (random weights)"))
        w.add(a + "vocab_size", .uint32(UInt32(nVocab)))
        w.add(a + "context_length", .uint32(4096))
        w.add(a + "embedding_length", .uint32(UInt32(nEmbd)))
        w.add(a + "block_count", .uint32(UInt32(nLayer)))
        w.add(a + "feed_forward_length", .uint32(UInt32(nFF)))
        w.add(a + "rope.dimension_count", .uint32(128))
        w.add(a + "attention.head_count", .uint32(UInt32(nHead)))
        w.add(a + "attention.head_count_kv", .uint32(UInt32(nHeadKV)))
        w.add(a + "attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.add(a + "rope.freq_base", .float32(500_000))
        for key in vocab.metadataKeys where key.hasPrefix("tokenizer.") {
            if let value = vocab.metadata[key] { w.add(key, value) }
        }
        var seed: UInt64 = 1
        func randomFill(_ buffer: UnsafeMutableRawBufferPointer, mask: UInt64 = .max, bits: UInt64 = 0) {
            let words = buffer.count / 8
            let p = buffer.baseAddress!.bindMemory(to: UInt64.self, capacity: words)
            var x = seed
            for i in 0..<words {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17
                p[i] = (x & mask) | bits
            }
            seed = x
        }
        func i2s(_ name: String, _ k: Int, _ n: Int) {
            let codes = k * n / 4
            w.addTensor(name, type: .i2_s, dims: [k, n], byteCount: codes + 32) { buffer in
                // Codes 0...2 only: clear the high bit of each 2-bit pair where both are set.
                randomFill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<codes]))
                for i in 0..<codes {
                    let b = buffer[i]
                    buffer[i] = b & ~((b & 0x55) << 1 & (b & 0xAA))
                }
                buffer.storeBytes(of: Float(0.5).bitPattern, toByteOffset: codes, as: UInt32.self)
            }
        }
        func norm(_ name: String, _ n: Int) {
            w.addTensor(name, type: .f32, dims: [n], byteCount: n * 4) { buffer in
                for i in 0..<n { buffer.storeBytes(of: Float(1).bitPattern, toByteOffset: i * 4, as: UInt32.self) }
            }
        }
        // F16 values ±[0.5, 1): sign and mantissa random, exponent fixed.
        w.addTensor("token_embd.weight", type: .f16, dims: [nEmbd, nVocab], byteCount: nEmbd * nVocab * 2) { buffer in
            randomFill(buffer, mask: 0x83FF_83FF_83FF_83FF, bits: 0x3800_3800_3800_3800)
        }
        norm("output_norm.weight", nEmbd)
        for l in 0..<nLayer {
            let p = "blk.\(l)."
            norm(p + "attn_norm.weight", nEmbd)
            i2s(p + "attn_q.weight", nEmbd, nEmbd)
            i2s(p + "attn_k.weight", nEmbd, kvDim)
            i2s(p + "attn_v.weight", nEmbd, kvDim)
            i2s(p + "attn_output.weight", nEmbd, nEmbd)
            norm(p + "attn_sub_norm.weight", nEmbd)
            norm(p + "ffn_norm.weight", nEmbd)
            i2s(p + "ffn_gate.weight", nEmbd, nFF)
            i2s(p + "ffn_up.weight", nEmbd, nFF)
            i2s(p + "ffn_down.weight", nFF, nEmbd)
            norm(p + "ffn_sub_norm.weight", nFF)
        }
        try w.write(to: path)
    }
}
