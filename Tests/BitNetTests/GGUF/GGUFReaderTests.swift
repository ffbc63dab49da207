import Testing
@testable import BitNet

@Suite struct GGUFReaderTests {
    @Test(arguments: SharedData.goldenModels)
    func goldenFileParses(_ name: String) throws {
        let file = try GGUFFile(path: SharedData.golden(name))
        #expect(file.version == 3)
        #expect(file.tensors.count == 24)
        #expect(file.metadata["tokenizer.ggml.tokens"]?.asStrings?.count == 512)
        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.type == .f16)
        #expect(embedding.dims == [256, 512])
        #expect(file.data(of: embedding).count == 256 * 512 * 2)
        let ffnDown = try #require(file.tensor(named: "blk.1.ffn_down.weight"))
        #expect(ffnDown.dims == [768, 256])
    }

    @Test func goldenTensorTypesMatchTheirNames() throws {
        let expected: [(String, GGMLType)] = [
            ("m1-b158-relu2-i2_s.gguf", .i2_s), ("m1-bitnet-relu2-tq2_0.gguf", .tq2_0),
            ("m1-bitnet-relu2-tq1_0.gguf", .tq1_0), ("m1-bitnet-relu2-f16.gguf", .f16),
        ]
        for (name, type) in expected {
            let file = try GGUFFile(path: SharedData.golden(name))
            let q = try #require(file.tensor(named: "blk.0.attn_q.weight"))
            #expect(q.type == type, "\(name)")
            #expect(q.dims == [256, 256])
            #expect(file.tensor(named: "blk.0.attn_norm.weight")?.type == .f32)
        }
    }

    @Test func vocabularyFileParsesQuickly() throws {
        let clock = ContinuousClock()
        var file: GGUFFile?
        let elapsed = try clock.measure { file = try GGUFFile(path: SharedData.vocab("ggml-vocab-llama-bpe.gguf")) }
        let parsed = try #require(file)
        #expect(parsed.tensors.isEmpty)
        #expect(parsed.metadata["tokenizer.ggml.tokens"]?.asStrings?.count == 128_256)
        #expect(parsed.metadata["tokenizer.ggml.merges"]?.asStrings?.count == 280_147)
        #expect(parsed.metadata["tokenizer.ggml.bos_token_id"]?.asInt == 128_000)
        // Generous for debug builds; release is far below 100 ms.
        #expect(elapsed < .seconds(5))
        print("parsed ggml-vocab-llama-bpe.gguf in \(elapsed)")
    }

    @Test func readWithoutMmapGivesTheSameResult() throws {
        let path = SharedData.golden("m1-bitnet-relu2-tq1_0.gguf")
        let mapped = try GGUFFile(path: path)
        let read = try GGUFFile(path: path, useMmap: false)
        #expect(mapped.isMemoryMapped && !read.isMemoryMapped)
        #expect(mapped.metadata == read.metadata)
        #expect(mapped.tensors == read.tensors)
        for info in mapped.tensors {
            #expect(Array(mapped.data(of: info)) == Array(read.data(of: info)))
        }
    }
}
