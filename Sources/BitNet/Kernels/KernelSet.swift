import CBitNetKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which implementation of the int8 × ternary inner loops runs.
///
/// Chosen once per process: the best set the CPU supports, unless the
/// environment variable `BITNET_KERNELS` (`reference`, `avx2`, `avx512`; on
/// AArch64 `neon`, `neon-dotprod`, `neon-i8mm`) forces one — for tests that
/// compare kernel sets. A forced set the CPU lacks falls back to the best
/// supported one below it.
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

    /// The set used by this process.
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

    #if arch(arm64)
    /// The x86 helper loops (`bnk_*_avx2`) never run here.
    static let usesSIMDHelpers = false
    /// Whether the NEON twins of those helper loops run: for every set but
    /// the reference one (NEON is the AArch64 baseline).
    static let usesNEONHelpers = selected != .reference
    #else
    /// Whether the small AVX2 (+F16C) helper loops of the float paths run
    /// (half vectors, 8-bit KV, activation rows): for every set but the
    /// reference one, whose CPU check already guarantees AVX2.
    static let usesSIMDHelpers = selected != .reference
    #endif

    /// Whether this architecture's vector helper loops run (AVX2 + F16C on
    /// x86, NEON on AArch64), for call sites that use one C entry point on both.
    static var usesVectorHelpers: Bool { selected != .reference }

    /// "bitnet 0.1.0; kernels: avx512vnni avx2 reference; using avx512vnni"
    package static var buildDescription: String {
        let compiled = compiledIn.map(\.rawValue).joined(separator: " ")
        return "bitnet \(Version.string); kernels: \(compiled); using \(selected.rawValue)"
    }
}
