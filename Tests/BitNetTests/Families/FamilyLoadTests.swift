import Testing
@testable import BitNet

/// Loading the llama / qwen3 families from small generated files: what is
/// accepted, and malformed variants that must fail with a message naming the
/// missing or wrong piece (never a crash).
@Suite struct FamilyLoadTests {
    static func llama() -> TinyModel {
        var recipe = TinyModel()
        recipe.arch = "llama"
        recipe.omit = Set((0..<recipe.nLayer).flatMap { ["blk.\($0).attn_sub_norm.weight", "blk.\($0).ffn_sub_norm.weight"] })
        return recipe
    }

    static func qwen3() -> TinyModel {
        var recipe = llama()
        recipe.arch = "qwen3"
        recipe.linearType = .tq2_0
        recipe.extraTensors = (0..<recipe.nLayer).flatMap { l in
            [("blk.\(l).attn_q_norm.weight", GGMLType.f32, [recipe.headDim]),
             ("blk.\(l).attn_k_norm.weight", GGMLType.f32, [recipe.headDim])]
        }
        return recipe
    }

    func expectFailure(_ status: Status, _ fragment: String, _ recipe: TinyModel,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let error = caught { try recipe.load() }
        #expect(error?.status == status, sourceLocation: sourceLocation)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "loaded") [\(fragment)]", sourceLocation: sourceLocation)
        // validate_only runs every structural check too.
        let structural = caught { try Model(file: GGUFFile(bytes: recipe.bytes()), validateOnly: true) }
        if status == .format {
            #expect(structural?.message == error?.message, sourceLocation: sourceLocation)
        }
    }

    @Test func llamaAndQwen3Load() throws {
        let llama = try Self.llama().load()
        #expect(llama.hparams.architecture == .llama && llama.hparams.activation == .silu)
        #expect(llama.layers[0].attnSubNorm.elementCount == 0 && llama.layers[0].attnQNorm == nil)
        #expect(HyperParameters.Architecture.llama.ropeStyle == .interleaved)
        let qwen = try Self.qwen3().load()
        #expect(qwen.hparams.architecture == .qwen3 && qwen.layers[1].attnKNorm?.shape == [64])
        #expect(HyperParameters.Architecture.qwen3.ropeStyle == .neox)
        #expect(HyperParameters.Architecture.qwen3.activationGroupColumns == 256)
        #expect(HyperParameters.Architecture.bitnetB158.activationGroupColumns == nil)
    }

    @Test func malformedVariantsAreRefusedWithTheMissingPiece() {
        var recipe = Self.qwen3()
        recipe.extraTensors.removeAll { $0.name == "blk.1.attn_k_norm.weight" }
        expectFailure(.format, "missing tensor blk.1.attn_k_norm.weight: arch qwen3 RMS-normalizes every query and key head", recipe)

        recipe = Self.qwen3()
        recipe.shapeOverrides["blk.0.attn_q_norm.weight"] = [32]
        expectFailure(.format, "tensor blk.0.attn_q_norm.weight: shape [32] does not match the expected [64]", recipe)

        recipe = Self.qwen3()
        recipe.metadataOverrides["attention.head_count_kv"] = .uint32(3)
        expectFailure(.format, "qwen3.attention.head_count 4 is not divisible by qwen3.attention.head_count_kv 3", recipe)

        recipe = Self.qwen3()
        recipe.metadataOverrides["attention.head_count"] = .uint32(8)  // head_dim 32, but RoPE covers 64
        expectFailure(.format, "qwen3.rope.dimension_count 64 must be even and at most the head dimension 32", recipe)

        recipe = Self.qwen3()
        recipe.metadataOverrides["attention.head_count"] = .uint32(8)
        recipe.metadataOverrides["rope.dimension_count"] = .uint32(32)  // consistent metadata, tensors for 4 heads
        expectFailure(.format, "tensor blk.0.attn_k.weight: shape [256, 128] does not match the expected [256, 64]", recipe)

        recipe = Self.qwen3()
        recipe.metadataOverrides["attention.key_length"] = .uint32(128)  // heads no longer match attn_q
        expectFailure(.format, "tensor blk.0.attn_q.weight: shape [256, 256] does not match the expected [256, 512]", recipe)

        recipe = Self.qwen3()
        recipe.metadataOverrides["attention.value_length"] = .uint32(32)
        expectFailure(.unsupported, "qwen3.attention.value_length 32 differs from the key head width 64", recipe)

        // BitNet sub-norms in a llama file: the arch label is wrong, not silently ignored.
        recipe = Self.llama()
        recipe.omit.remove("blk.0.attn_sub_norm.weight")
        expectFailure(.format, "tensor blk.0.attn_sub_norm.weight is not part of arch llama", recipe)

        recipe = Self.llama()
        recipe.extraTensors = [("blk.0.attn_q_norm.weight", .f32, [64])]
        expectFailure(.format, "tensor blk.0.attn_q_norm.weight is not part of arch llama (it has no QK-norm)", recipe)

        // Tensors the engine would ignore are refused by name: a bias, RoPE scaling.
        recipe = Self.llama()
        recipe.extraTensors = [("blk.1.attn_q.bias", .f32, [256])]
        expectFailure(.unsupported, "tensor blk.1.attn_q.bias is not used by arch llama", recipe)
        recipe = Self.llama()
        recipe.extraTensors = [("rope_freqs.weight", .f32, [32])]
        expectFailure(.unsupported, "RoPE scaling (tensor rope_freqs.weight", recipe)
        recipe = Self.llama()
        recipe.metadataOverrides["rope.scaling.type"] = .string("yarn")
        expectFailure(.unsupported, "RoPE scaling yarn with factor 1.0 (key llama.rope.scaling.type) is not supported", recipe)
        recipe.metadataOverrides["rope.scaling.type"] = .string("linear")
        recipe.metadataOverrides["rope.scaling.factor"] = .float32(4)
        expectFailure(.unsupported, "RoPE scaling linear with factor 4.0", recipe)
        recipe.metadataOverrides["rope.scaling.factor"] = .float32(1)
        #expect(throws: Never.self) { try recipe.load() }  // linear × 1 is no scaling

        // A bitnet file without its sub-norm still names the tensor.
        var bitnet = TinyModel()
        bitnet.omit = ["blk.0.ffn_sub_norm.weight"]
        expectFailure(.format, "missing tensor blk.0.ffn_sub_norm.weight", bitnet)

        // A malformed projection scale tensor.
        recipe = Self.llama()
        recipe.extraTensors = [("blk.0.attn_q.scale", .f16, [1])]
        expectFailure(.format, "tensor blk.0.attn_q.scale: a projection scale must be one F32 value", recipe)
    }

    /// Float weights of a llama file must already be ternary; the error names the tensor.
    @Test func nonTernaryLlamaWeightsAreRefused() throws {
        var recipe = Self.llama()
        recipe.linearType = .f16
        recipe.omit.insert("blk.1.ffn_up.weight")
        var writer = recipe.writer()
        var random = TestRandom(seed: 3)
        var halves: [UInt8] = []
        for _ in 0..<(recipe.nEmbd * recipe.nFF) {
            withUnsafeBytes(of: Float16(random.float(-1...1)).bitPattern) { halves += $0 }
        }
        writer.addTensor("blk.1.ffn_up.weight", type: .f16, dims: [recipe.nEmbd, recipe.nFF], data: halves)
        let file = try GGUFFile(bytes: writer.bytes())
        let error = caught { try Model(file: file) }
        #expect(error?.status == .unsupported)
        #expect(error?.message.hasPrefix("tensor blk.1.ffn_up.weight: weights are not ternary") == true, "\(error?.message ?? "loaded")")
        #expect(FamilyReport(file: file).ternary.hasPrefix("NO: tensor blk.1.ffn_up.weight holds nonzero magnitudes"))
        // The same weights in a bitnet file are ternarized (absmean), as before.
        var bitnet = recipe
        bitnet.arch = "bitnet"
        bitnet.omit = ["blk.1.ffn_up.weight"]
        var bitnetWriter = bitnet.writer()
        bitnetWriter.addTensor("blk.1.ffn_up.weight", type: .f16, dims: [recipe.nEmbd, recipe.nFF], data: halves)
        #expect(throws: Never.self) { try Model(file: GGUFFile(bytes: bitnetWriter.bytes())) }
    }

    @Test func familyReportNamesTheFamilyAndEvidence() throws {
        let qwen = FamilyReport(file: try GGUFFile(bytes: Self.qwen3().bytes()))
        #expect(qwen.architecture == .qwen3 && qwen.family.hasPrefix("Qwen3 with ternary weights"))
        #expect(qwen.evidence.contains("QK-norm present (blk.0.attn_q_norm, attn_k_norm)"))
        #expect(qwen.ternary == "yes: TQ2_0 blocks (ternary by construction)")
        var other = TinyModel()
        other.arch = "gemma"
        let unknown = FamilyReport(file: try GGUFFile(bytes: other.bytes()))
        #expect(unknown.architecture == nil && unknown.family.hasPrefix("none recognised: architecture 'gemma'"))
    }

    /// RoPE's interleaved style rotates adjacent pairs with the same angles as rotate-half.
    @Test func interleavedRoPEIsAPermutedRotateHalf() {
        let headDim = 8
        let neox = RoPE(headDim: headDim, theta: 10_000), pairs = RoPE(headDim: headDim, theta: 10_000, style: .interleaved)
        var table = [Float](repeating: 0, count: headDim)
        table.withUnsafeMutableBufferPointer { neox.fillTable(position: 5, into: $0.baseAddress!) }
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        // Interleave x the way the llama converters permute Q/K rows: pair i = (x[i], x[i + 4]).
        var permuted = [Float](repeating: 0, count: headDim)
        for i in 0..<4 { permuted[2 * i] = x[i]; permuted[2 * i + 1] = x[i + 4] }
        var a = x, b = permuted
        table.withUnsafeBufferPointer { t in
            a.withUnsafeMutableBufferPointer { neox.apply($0.baseAddress!, heads: 1, table: t.baseAddress!) }
            b.withUnsafeMutableBufferPointer { pairs.apply($0.baseAddress!, heads: 1, table: t.baseAddress!) }
        }
        for i in 0..<4 {
            #expect(b[2 * i] == a[i] && b[2 * i + 1] == a[i + 4])
        }
    }
}
