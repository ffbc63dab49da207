import CBitNetKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which implementation of the inner loops runs: the int8 × ternary and dense
/// products, the attention tiles, and the float helpers (`hasFloatSIMD`).
///
/// A context owns its set (`ContextOptions.kernels`; a batched context its
/// batch's, `BatchOptions.kernels`) and every kernel and helper of its forward
/// pass, KV writes and reads and activation quantization takes it from there.
/// `selected` is only the default of new contexts, batches and tools.
package enum KernelSet: String, Sendable, CaseIterable {
    case reference
    case avx2
    case avx512vnni
    #if arch(arm64)
    /// AArch64 Advanced SIMD (bitnet_kernels.h: the three NEON levels).
    case neon
    /// NEON with the SDOT dot-product instructions (FEAT_DotProd).
    case neonDotprod = "neon-dotprod"
    /// NEON with SDOT and the SMMLA int8 matrix multiply (FEAT_I8MM).
    case neonI8mm = "neon-i8mm"
    #endif

    /// Every set this build contains, best first.
    package static let compiledIn: [KernelSet] = {
        #if arch(x86_64)
        return [.avx512vnni, .avx2, .reference]
        #elseif arch(arm64)
        return [.neonI8mm, .neonDotprod, .neon, .reference]
        #else
        return [.reference]
        #endif
    }()

    package var isSupportedByCPU: Bool {
        switch self {
        case .reference: return true
        case .avx2: return bnk_cpu_has_avx2() != 0
        case .avx512vnni: return bnk_cpu_has_avx512vnni() != 0
        #if arch(arm64)
        case .neon: return bnk_cpu_has_neon() != 0
        case .neonDotprod: return bnk_cpu_has_neon_dotprod() != 0
        case .neonI8mm: return bnk_cpu_has_neon_i8mm() != 0
        #endif
        }
    }

    /// The default set of new contexts, batches and tools: the best set the
    /// CPU supports, unless the environment variable `BITNET_KERNELS`
    /// (`reference`, `avx2`, `avx512`; on AArch64 `neon`, `neon-dotprod`,
    /// `neon-i8mm`) forces one. A forced set the CPU lacks falls back to the
    /// best supported one below it.
    package static let selected: KernelSet = {
        let supported = compiledIn.filter(\.isSupportedByCPU)
        if let raw = getenv("BITNET_KERNELS") {
            let forced: KernelSet? = switch String(cString: raw) {
            case "reference", "scalar": .reference
            case "avx2": .avx2
            case "avx512", "avx512vnni": .avx512vnni
            #if arch(arm64)
            case "neon": .neon
            case "neon-dotprod", "dotprod": .neonDotprod
            case "neon-i8mm", "i8mm": .neonI8mm
            #endif
            default: nil
            }
            if let forced, let index = compiledIn.firstIndex(of: forced) {
                return compiledIn[index...].first(where: \.isSupportedByCPU) ?? .reference
            }
        }
        return supported.first ?? .reference
    }()

    /// Whether this set runs the small vector helper loops of the float paths
    /// (half vectors, 8-bit KV, activation rows, sums of squares): AVX2 + F16C
    /// on x86, NEON on AArch64; every set but the reference one. Evaluated on
    /// the kernel set a context (or a tool) carries, never on a process-wide
    /// switch, so a context asked to run `.reference` runs reference helpers
    /// too. Like the int8 kernels, it requires the set to be supported by the
    /// CPU (`ForwardPass` checks that when a context is created).
    @inline(__always)
    package var hasFloatSIMD: Bool {
        let simd = self != .reference
        #if DEBUG
        HelperTrace.note(vector: simd)
        #endif
        return simd
    }

    /// "bitnet 0.1.0; kernels: avx512vnni avx2 reference; using avx512vnni".
    /// "using" names the default set (`selected`): no context is at hand here.
    package static var buildDescription: String {
        let compiled = compiledIn.map(\.rawValue).joined(separator: " ")
        return "bitnet \(Version.string); kernels: \(compiled); using \(selected.rawValue)"
    }
}
