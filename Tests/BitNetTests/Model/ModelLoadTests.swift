#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import BitNet

@Suite struct ModelLoadTests {
    // MARK: - Golden files

    @Test(arguments: [
        ("m1-b158-relu2-i2_s.gguf", HyperParameters.Architecture.bitnetB158, HyperParameters.Activation.relu2, GGMLType.i2_s),
        ("m1-bitnet-relu2-tq2_0.gguf", .bitnet, .relu2, .tq2_0),
        ("m1-bitnet-relu2-tq1_0.gguf", .bitnet, .relu2, .tq1_0),
        ("m1-bitnet-relu2-f16.gguf", .bitnet, .relu2, .f16),
        ("m2-bitnet-silu-tq2_0.gguf", .bitnet, .silu, .tq2_0),
    ])
    func goldenModelLoads(_ name: String, _ arch: HyperParameters.Architecture,
                          _ activation: HyperParameters.Activation, _ weightType: GGMLType) throws {
        let model = try Model.load(path: SharedData.golden(name))
        let h = model.hparams
        #expect(h.architecture == arch)
        #expect(h.activation == activation)
        #expect(h.nVocab == 512 && h.nEmbd == 256 && h.nLayer == 2 && h.nFF == 768)
        #expect(h.nHead == 4 && h.nHeadKV == 2 && h.headDim == 64 && h.nRot == 64 && h.groupSize == 2)
        #expect(h.nCtxTrain == 4096)
        #expect(h.ropeTheta == 500_000)
        #expect(abs(h.rmsEps - 1e-5) < 1e-12)
        #expect(h.tiedOutput && model.output == nil)
        #expect(model.weightType == weightType)
        #expect(model.layers.count == 2)
        #expect(model.tokenEmbedding.type == .f16 && model.tokenEmbedding.shape == [256, 512])
        #expect(model.lmHead.name == "token_embd.weight")
        #expect(model.outputNorm.shape == [256] && model.outputNorm.type == .f32)
        for layer in model.layers {
            for projection in Projection.allCases {
                #expect(layer.weight(projection).type == weightType)
                #expect(layer.scale(projection) == nil)
            }
            #expect(layer.attnQ.shape == [256, 256])
            #expect(layer.attnK.shape == [256, 128] && layer.attnV.shape == [256, 128])
            #expect(layer.attnOutput.shape == [256, 256])
            #expect(layer.ffnGate.shape == [256, 768] && layer.ffnUp.shape == [256, 768])
            #expect(layer.ffnDown.shape == [768, 256] && layer.ffnDown.rowLength == 768 && layer.ffnDown.rowCount == 256)
            #expect(layer.attnSubNorm.shape == [256] && layer.ffnSubNorm.shape == [768])
            for norm in [layer.attnNorm, layer.attnSubNorm, layer.ffnNorm, layer.ffnSubNorm] {
                #expect(norm.type == .f32 && norm.data.count == norm.elementCount * 4)
            }
            let q = layer.attnQ
            #expect(q.data.count == (try q.type.tensorByteSize(dims: q.shape, tensorName: q.name)))
        }
        #expect(model.parameterCount == 1_707_264)
    }

    @Test func i2sScaleIsReadFromTheTrailer() throws {
        let model = try Model.load(path: SharedData.golden("m1-b158-relu2-i2_s.gguf"))
        let q = model.layers[0].attnQ
        #expect(q.data.count == 256 * 256 / 4 + 32)
        #expect(q.row(1).count == 64)
        let scale = try #require(q.i2sScale)
        #expect(scale.isFinite && scale > 0)
        #expect(model.layers[0].ffnNorm.i2sScale == nil)
    }

    @Test(arguments: SharedData.vocabFiles)
    func vocabFilesLoadVocabOnly(_ name: String) throws {
        let path = SharedData.vocab(name)
        let model = try Model.load(path: path, options: ModelLoadOptions(vocabOnly: true))
        #expect(model.isVocabOnly && model.layers.isEmpty && model.weightType == nil)
        #expect(model.hparams.nVocab == model.metadata["tokenizer.ggml.tokens"]?.asStrings?.count)
        let error = caught { try Model.load(path: path) }
        if let arch = model.metadata["general.architecture"]?.asString, HyperParameters.Architecture(rawValue: arch) != nil {
            // A supported architecture (llama) without weights: refused for what is missing.
            #expect(model.hparams.architecture?.rawValue == arch)
            #expect(error?.status == .format)
        } else {
            // Without vocab_only the same file is refused: not a supported architecture.
            #expect(model.hparams.architecture == nil)
            #expect(error?.status == .unsupported)
            #expect(error?.message.contains("architecture '") == true)
        }
    }

    @Test func vocabOnlyIgnoresTensorsItCannotRead() throws {
        var recipe = TinyModel()
        recipe.extraTensors = [("blk.0.exotic.weight", .f32, [4])]
        var writer = recipe.writer()
        writer.tensors[writer.tensors.count - 1].typeID = 200  // a type id from the future
        let path = "/tmp/bitnet-h1-exotic-\(getpid()).gguf"
        defer { unlink(path) }
        try writer.write(to: path)
        let full = caught { try Model.load(path: path) }
        #expect(full?.status == .unsupported && full?.message == "tensor blk.0.exotic.weight: unknown ggml type id 200")
        let vocab = try Model.load(path: path, options: ModelLoadOptions(vocabOnly: true))
        #expect(vocab.isVocabOnly && vocab.file.tensors.isEmpty && vocab.hparams.nVocab == 64)
        #expect(vocab.hparams.architecture == .bitnetB158 && vocab.hparams.nLayer == 2)
    }

    @Test func goldenModelLoadsVocabOnlyToo() throws {
        let model = try Model.load(path: SharedData.golden("m1-bitnet-relu2-tq2_0.gguf"), options: ModelLoadOptions(vocabOnly: true))
        #expect(model.isVocabOnly && model.hparams.architecture == .bitnet && model.hparams.nVocab == 512)
    }

    // MARK: - Options

    @Test(arguments: [true, false])
    func progressIsReportedAndCanCancel(_ useMmap: Bool) throws {
        let path = SharedData.golden("m1-bitnet-relu2-f16.gguf")
        let seen = Locked([Double]())
        let model = try Model.load(path: path, options: ModelLoadOptions(useMmap: useMmap, progress: { p in
            seen.withLock { $0.append(p) }
            return true
        }))
        #expect(model.file.isMemoryMapped == useMmap)
        let values = seen.withLock { $0 }
        #expect(values.first == 0 && values.last == 1)
        #expect(values == values.sorted())

        let cancelled = caught {
            try Model.load(path: path, options: ModelLoadOptions(useMmap: useMmap, progress: { $0 < 0.5 }))
        }
        #expect(cancelled?.status == .cancelled)
        #expect(cancelled?.message.contains("cancelled") == true)
        let cancelledAtStart = caught { try Model.load(path: path, options: ModelLoadOptions(progress: { _ in false })) }
        #expect(cancelledAtStart?.status == .cancelled)
    }

    @Test func mlockIsBestEffort() throws {
        let model = try Model.load(path: SharedData.golden("m1-bitnet-relu2-tq1_0.gguf"), options: ModelLoadOptions(useMlock: true))
        #expect(model.layers.count == 2)
    }

    // MARK: - Valid variants built with the writer

    @Test(arguments: [GGMLType.i2_s, .tq1_0, .tq2_0, .f32, .f16, .bf16])
    func everyLinearTypeLoads(_ type: GGMLType) throws {
        var recipe = TinyModel()
        recipe.linearType = type
        let model = try recipe.load()
        #expect(model.weightType == type)
    }

    @Test(arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_K, .q6_K])
    func everyEmbeddingTypeLoads(_ type: GGMLType) throws {
        var recipe = TinyModel()
        recipe.embeddingType = type
        recipe.tied = false
        let model = try recipe.load()
        #expect(model.tokenEmbedding.type == type)
        #expect(model.output?.type == type && !model.hparams.tiedOutput && model.lmHead.name == "output.weight")
    }

    @Test func defaultsApplyWhenOptionalKeysAreMissing() throws {
        var recipe = TinyModel()
        for key in ["vocab_size", "context_length", "attention.head_count_kv", "attention.layer_norm_rms_epsilon",
                    "rope.freq_base", "rope.dimension_count", "feed_forward_length", "block_count", "embedding_length"] {
            recipe.metadataOverrides[key] = .some(nil)
        }
        recipe.nHeadKV = recipe.nHead  // the default for a missing head_count_kv
        var h = try recipe.load().hparams
        #expect(h.nVocab == 64 && h.nCtxTrain == 4096 && h.nEmbd == 256 && h.nFF == 512 && h.nLayer == 2)
        #expect(h.nHeadKV == 4 && h.rmsEps == 1e-5 && h.ropeTheta == 500_000 && h.nRot == 64)

        recipe.arch = "bitnet"
        h = try recipe.load().hparams
        #expect(h.ropeTheta == 10_000 && h.activation == .silu)
        recipe.arch = "bitnet-25"
        #expect(try recipe.load().hparams.activation == .relu2)
    }

    @Test func bitnetActivationKey() throws {
        var recipe = TinyModel()
        recipe.arch = "bitnet"
        recipe.activation = "relu2"
        #expect(try recipe.load().hparams.activation == .relu2)
        recipe.activation = "silu"
        #expect(try recipe.load().hparams.activation == .silu)
        recipe.activation = "gelu"
        let error = caught { try recipe.load() }
        #expect(error?.status == .unsupported)
        #expect(error?.message.contains("bitnet.hidden_activation is 'gelu'") == true || error?.message.contains("'bitnet.hidden_activation' is 'gelu'") == true)
    }

    @Test func projectionScalesArePickedUp() throws {
        var recipe = TinyModel()
        recipe.extraTensors = [("blk.0.attn_q.scale", .f32, [1]), ("blk.1.ffn_down.scale", .f32, [1])]
        let model = try recipe.load()
        #expect(model.layers[0].scale(.q)?.scalarValue == 0)
        #expect(model.layers[1].scale(.down) != nil && model.layers[1].scale(.up) == nil)
    }

    // MARK: - Invalid models: status and message

    @Test func invalidModelsAreRejectedWithSpecificMessages() {
        func expectFailure(_ status: Status, _ fragment: String, _ mutate: (inout TinyModel) -> Void,
                           sourceLocation: SourceLocation = #_sourceLocation) {
            var recipe = TinyModel()
            mutate(&recipe)
            let error = caught { try recipe.load() }
            #expect(error?.status == status, "\(error?.message ?? "loaded")", sourceLocation: sourceLocation)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "loaded")", sourceLocation: sourceLocation)
        }
        expectFailure(.format, "missing tensor blk.1.ffn_up.weight") { $0.omit = ["blk.1.ffn_up.weight"] }
        expectFailure(.format, "missing tensor token_embd.weight") {
            $0.omit = ["token_embd.weight"]
        }
        expectFailure(.format, "missing tensor output_norm.weight") { $0.omit = ["output_norm.weight"] }
        expectFailure(.format, "tensor blk.0.attn_k.weight: shape [256, 256] does not match the expected [256, 128]") {
            $0.shapeOverrides["blk.0.attn_k.weight"] = [256, 256]
        }
        expectFailure(.format, "tensor blk.1.ffn_sub_norm.weight: shape [256]") {
            $0.shapeOverrides["blk.1.ffn_sub_norm.weight"] = [256]
        }
        expectFailure(.format, "tensor token_embd.weight: shape [256, 65]") {
            $0.shapeOverrides["token_embd.weight"] = [256, 65]
        }
        expectFailure(.format, "tensor output.weight: shape [256, 32]") {
            $0.tied = false
            $0.shapeOverrides["output.weight"] = [256, 32]
        }
        expectFailure(.format, "type 36 needs K % 128 == 0, got 300 (I2_S rows are whole blocks)") {
            $0.shapeOverrides["blk.0.ffn_up.weight"] = [300, 512]
        }
        expectFailure(.unsupported, "tensor blk.0.attn_q.weight: type Q8_0 is not supported here") {
            $0.typeOverrides["blk.0.attn_q.weight"] = .q8_0
        }
        expectFailure(.unsupported, "tensor token_embd.weight: type I2_S is not supported here") {
            $0.typeOverrides["token_embd.weight"] = .i2_s
        }
        expectFailure(.unsupported, "tensor blk.0.attn_norm.weight: type F16 is not supported here") {
            $0.typeOverrides["blk.0.attn_norm.weight"] = .f16
        }
        expectFailure(.unsupported, "architecture 'gemma' is not supported") { $0.arch = "gemma" }
        expectFailure(.format, "not divisible by bitnet-b1.58.attention.head_count_kv 3") {
            $0.metadataOverrides["attention.head_count_kv"] = .uint32(3)
        }
        expectFailure(.format, "embedding_length 256 is not divisible by bitnet-b1.58.attention.head_count 3") {
            $0.metadataOverrides["attention.head_count"] = .uint32(3)
        }
        expectFailure(.format, "head dimension 5 (n_embd / n_head) must be even") {
            $0.metadataOverrides["attention.head_count"] = .uint32(1)
            $0.metadataOverrides["attention.head_count_kv"] = .uint32(1)
            $0.metadataOverrides["embedding_length"] = .uint32(5)
        }
        expectFailure(.format, "metadata 'bitnet-b1.58.block_count' has type string, expected an integer") {
            $0.metadataOverrides["block_count"] = .string("2")
        }
        expectFailure(.format, "metadata 'bitnet-b1.58.rope.freq_base' has type array[float32], expected a number") {
            $0.metadataOverrides["rope.freq_base"] = .array(.float32([1, 2]))
        }
        expectFailure(.format, "bitnet-b1.58.embedding_length is 0") {
            $0.metadataOverrides["embedding_length"] = .uint32(0)
        }
        expectFailure(.format, "bitnet-b1.58.block_count is 3000000000") {
            $0.metadataOverrides["block_count"] = .uint64(3_000_000_000)
        }
        expectFailure(.format, "attention.layer_norm_rms_epsilon is -1.0") {
            $0.metadataOverrides["attention.layer_norm_rms_epsilon"] = .float32(-1)
        }
        expectFailure(.format, "missing tensor blk.2.attn_norm.weight") {
            $0.metadataOverrides["block_count"] = .uint32(3)
        }
        expectFailure(.format, "tensor blk.1.attn_norm.weight belongs to layer 1, but bitnet-b1.58.block_count is 1") {
            $0.metadataOverrides["block_count"] = .uint32(1)
        }
        expectFailure(.format, "tensor blk.0.attn_q.scale: a projection scale must be one F32 value") {
            $0.extraTensors = [("blk.0.attn_q.scale", .f32, [2])]
        }
        expectFailure(.format, "rope.dimension_count 96 must be even and at most the head dimension 64") {
            $0.metadataOverrides["rope.dimension_count"] = .uint32(96)
        }
    }

    @Test func architectureKeyProblems() {
        var w = GGUFWriter()
        w.add("general.name", .string("x"))
        var error = caught { try Model(file: GGUFFile(bytes: w.bytes())) }
        #expect(error?.status == .format && error?.message == "missing metadata key general.architecture")
        w = GGUFWriter()
        w.add("general.architecture", .uint32(1))
        error = caught { try Model(file: GGUFFile(bytes: w.bytes())) }
        #expect(error?.message == "metadata 'general.architecture' has type uint32, expected string")
    }
}
