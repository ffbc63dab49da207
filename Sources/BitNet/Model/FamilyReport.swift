/// Which model family a GGUF file is, and the evidence: what `bitnet inspect`
/// prints. Works on any parsed file, loadable or not, so an unsupported file
/// still gets told which piece is missing.
package struct FamilyReport: Sendable {
    /// The recognised architecture, nil when `general.architecture` is not one we run.
    package let architecture: HyperParameters.Architecture?
    /// One line naming the family (or why none was recognised).
    package let family: String
    /// The facts the recognition rests on, one per line.
    package let evidence: [String]
    /// Whether the linear weights are ternary, and why we think so.
    package let ternary: String

    /// Decoder linear weights: `blk.N.<projection>.weight`.
    static func linearTensors(_ file: GGUFFile) -> [GGUFTensorInfo] {
        file.tensors.filter { info in
            info.name.hasPrefix("blk.") && Projection.allCases.contains { info.name.hasSuffix("." + $0.rawValue + ".weight") }
        }
    }

    package init(file: GGUFFile) {
        let archName = file.metadata["general.architecture"]?.asString
        let arch = archName.flatMap(HyperParameters.Architecture.init(rawValue:))
        architecture = arch
        var evidence: [String] = []
        if let archName {
            evidence.append("general.architecture = \"\(archName)\"")
        } else {
            evidence.append("no general.architecture key")
        }
        func has(_ suffix: String) -> Bool { file.tensor(named: "blk.0." + suffix + ".weight") != nil }
        let subNorms = has("attn_sub_norm") && has("ffn_sub_norm")
        let qkNorm = has("attn_q_norm") && has("attn_k_norm")
        evidence.append(subNorms ? "sub-norms present (blk.0.attn_sub_norm, ffn_sub_norm)" : "no sub-norms")
        evidence.append(qkNorm ? "QK-norm present (blk.0.attn_q_norm, attn_k_norm)" : "no QK-norm")
        evidence.append(file.tensor(named: "output.weight") == nil ? "LM head tied to token_embd" : "separate output.weight")
        if let pre = file.metadata["tokenizer.ggml.pre"]?.asString { evidence.append("tokenizer.ggml.pre = \"\(pre)\"") }
        let linear = Self.linearTensors(file)
        var counts: [String: Int] = [:]
        for info in linear { counts[info.type.name, default: 0] += 1 }
        if !counts.isEmpty {
            evidence.append("linear weight types: " + counts.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        }
        if let arch {
            var line = arch.familyDescription
            if let group = arch.activationGroupColumns {
                line += "; int8 activations per \(group) values (llama.cpp's Q8_K)"
            } else {
                line += "; int8 activations per token (BitNet b1.58 paper)"
            }
            if arch.hasSubNorms != subNorms || arch.hasQKNorm != qkNorm {
                line += " — but the tensors do not match this arch (see the load error)"
            }
            family = line
        } else {
            let supported = HyperParameters.Architecture.allCases.map(\.rawValue).joined(separator: ", ")
            family = "none recognised: architecture '\(archName ?? "")' is not one of \(supported)"
        }
        ternary = Self.ternaryVerdict(file, linear)
        self.evidence = evidence
    }

    /// Block types are ternary by construction; float types are ternary when
    /// every tensor holds {−s, 0, +s} for one s (checked value by value).
    static func ternaryVerdict(_ file: GGUFFile, _ linear: [GGUFTensorInfo]) -> String {
        guard !linear.isEmpty else { return "no linear weights" }
        var blockTypes = Set<String>(), floatTensors = 0
        for info in linear {
            switch info.type {
            case .i2_s, .tq1_0, .tq2_0:
                blockTypes.insert(info.type.name)
            case .q2_0:
                // Ternary unless some code is 3 (+2·d).
                let data = file.data(of: info)
                for block in 0..<(info.elementCount / 64) {
                    for byte in data[(block * 18 + 2)..<(block * 18 + 18)] where TernaryFormats.hasInvalidCode(byte) {
                        return "NO: tensor \(info.name) (Q2_0) holds code 3 (+2·d) in block \(block), not {-d, 0, +d}"
                    }
                }
                blockTypes.insert(info.type.name)
            case .f32, .f16, .bf16:
                let data = file.data(of: info)
                if let (a, b) = TernaryQuantizer.twoMagnitudes(type: info.type.id, data, count: info.elementCount) {
                    return "NO: tensor \(info.name) holds nonzero magnitudes \(a) and \(b), not {-s, 0, +s}"
                }
                floatTensors += 1
            default:
                return "NO: tensor \(info.name) has type \(info.type.name), not a ternary or float type"
            }
        }
        var parts: [String] = []
        if !blockTypes.isEmpty { parts.append(blockTypes.sorted().joined(separator: "/") + " blocks (ternary by construction)") }
        if floatTensors > 0 { parts.append("\(floatTensors) float tensors each holding {-s, 0, +s}") }
        return "yes: " + parts.joined(separator: ", ")
    }
}
