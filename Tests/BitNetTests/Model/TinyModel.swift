@testable import BitNet

/// Builds small, valid model files with `GGUFWriter` (random ternary codes
/// with unit scales as linear weights, random bytes elsewhere). Tests mutate the recipe or
/// the writer to make them invalid in exactly one way.
struct TinyModel {
    var arch = "bitnet-b1.58"
    var linearType: GGMLType = .i2_s
    var embeddingType: GGMLType = .f16
    var nVocab = 64
    var nEmbd = 256
    var nLayer = 2
    var nHead = 4
    var nHeadKV = 2
    var nFF = 512
    var tied = true
    var activation: String? = nil
    /// Tensors to leave out, by name.
    var omit: Set<String> = []
    /// Shapes to override, by tensor name.
    var shapeOverrides: [String: [Int]] = [:]
    /// Type overrides, by tensor name.
    var typeOverrides: [String: GGMLType] = [:]
    /// Metadata overrides (key without the arch prefix: "block_count"); nil value removes the key.
    var metadataOverrides: [String: GGUFValue?] = [:]
    var extraTensors: [(name: String, type: GGMLType, dims: [Int])] = []

    var headDim: Int { nEmbd / nHead }

    func writer() -> GGUFWriter {
        var w = GGUFWriter()
        w.add("general.architecture", .string(arch))
        w.add("general.name", .string("tiny test model"))
        var keys: [(String, GGUFValue)] = [
            ("vocab_size", .uint32(UInt32(nVocab))),
            ("context_length", .uint32(512)),
            ("embedding_length", .uint32(UInt32(nEmbd))),
            ("block_count", .uint32(UInt32(nLayer))),
            ("feed_forward_length", .uint32(UInt32(nFF))),
            ("rope.dimension_count", .uint32(UInt32(headDim))),
            ("attention.head_count", .uint32(UInt32(nHead))),
            ("attention.head_count_kv", .uint32(UInt32(nHeadKV))),
            ("attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("rope.freq_base", .float32(500_000)),
        ]
        if let activation { keys.append(("hidden_activation", .string(activation))) }
        for (key, value) in metadataOverrides where !keys.contains(where: { $0.0 == key }) {
            if let value { keys.append((key, value)) }
        }
        for (key, value) in keys {
            if let override = metadataOverrides[key] {
                if let override { w.add(arch + "." + key, override) }
            } else {
                w.add(arch + "." + key, value)
            }
        }
        w.add("tokenizer.ggml.model", .string("gpt2"))
        w.add("tokenizer.ggml.tokens", .array(.string((0..<nVocab).map { "t\($0)" })))

        var rng = SplitMix64(seed: 7)
        func add(_ name: String, _ type: GGMLType, _ dims: [Int]) {
            guard !omit.contains(name) else { return }
            let finalType = typeOverrides[name] ?? type
            let finalDims = shapeOverrides[name] ?? dims
            let size = (try? finalType.tensorByteSize(dims: finalDims, tensorName: name)) ?? 0
            let bytes = TinyModel.plausibleBytes(finalType, count: size, rng: &rng)
            w.addTensor(name, type: finalType, dims: finalDims, data: bytes)
        }
        let kvDim = nHeadKV * headDim
        add("token_embd.weight", embeddingType, [nEmbd, nVocab])
        add("output_norm.weight", .f32, [nEmbd])
        if !tied { add("output.weight", embeddingType, [nEmbd, nVocab]) }
        for l in 0..<nLayer {
            let p = "blk.\(l)."
            add(p + "attn_norm.weight", .f32, [nEmbd])
            add(p + "attn_q.weight", linearType, [nEmbd, nEmbd])
            add(p + "attn_k.weight", linearType, [nEmbd, kvDim])
            add(p + "attn_v.weight", linearType, [nEmbd, kvDim])
            add(p + "attn_output.weight", linearType, [nEmbd, nEmbd])
            add(p + "attn_sub_norm.weight", .f32, [nEmbd])
            add(p + "ffn_norm.weight", .f32, [nEmbd])
            add(p + "ffn_gate.weight", linearType, [nEmbd, nFF])
            add(p + "ffn_up.weight", linearType, [nEmbd, nFF])
            add(p + "ffn_down.weight", linearType, [nFF, nEmbd])
            add(p + "ffn_sub_norm.weight", .f32, [nFF])
        }
        for extra in extraTensors { add(extra.name, extra.type, extra.dims) }
        return w
    }

    func bytes() -> [UInt8] { writer().bytes() }

    /// Random content that the weight repacking accepts: ternary codes 0...2
    /// with scale 1 for the ternary types, zeros for plain floats.
    static func plausibleBytes(_ type: GGMLType, count: Int, rng: inout SplitMix64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        func codes() -> UInt8 {  // four 2-bit fields, each 0, 1 or 2
            var byte: UInt8 = 0
            for _ in 0..<4 { byte = byte << 2 | UInt8(rng.next() % 3) }
            return byte
        }
        switch type {
        case .f32, .f16, .bf16:
            break
        case .i2_s:
            let packed = count - 32
            for i in 0..<max(packed, 0) { bytes[i] = codes() }
            if packed >= 0 { bytes[packed + 2] = 0x80; bytes[packed + 3] = 0x3F }  // f32 1.0
        case .tq2_0:
            for block in stride(from: 0, to: count, by: 66) {
                for i in 0..<64 { bytes[block + i] = codes() }
                bytes[block + 65] = 0x3C  // f16 1.0
            }
        case .tq1_0:
            for block in stride(from: 0, to: count, by: 54) {
                for i in 0..<52 { bytes[block + i] = UInt8(truncatingIfNeeded: rng.next()) }
                bytes[block + 52] = 0; bytes[block + 53] = 0x3C  // f16 1.0
            }
        default:
            for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        }
        return bytes
    }

    func load() throws(BitNetError) -> Model {
        try Model(file: GGUFFile(bytes: bytes()))
    }
}

/// Runs `body` and returns the BitNetError it throws (nil if it succeeds).
/// (Untyped `throws` so closures need no annotation; other error types become `.internal`.)
func caught<T>(_ body: () throws -> T) -> BitNetError? {
    do {
        _ = try body()
        return nil
    } catch let error as BitNetError {
        return error
    } catch {
        return BitNetError(.internal, "unexpected error \(error)")
    }
}
