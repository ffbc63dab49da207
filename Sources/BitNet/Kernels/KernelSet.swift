import CBitNetKernels
#if canImport(Glibc)
import Glibc
#endif

/// Which implementation of the int8 × ternary inner loops runs.
///
/// Chosen once per process: the best set the CPU supports, unless the
/// environment variable `BITNET_KERNELS` (`reference`, `avx2`, `avx512`) forces
/// one — for tests that compare kernel sets. A forced set the CPU lacks falls
/// back to the best supported one below it.
public enum KernelSet: String, Sendable, CaseIterable {
    case reference
    case avx2
    case avx512vnni

    /// Every set this build contains, best first.
    public static let compiledIn: [KernelSet] = {
        #if arch(x86_64)
        return [.avx512vnni, .avx2, .reference]
        #else
        return [.reference]
        #endif
    }()

    public var isSupportedByCPU: Bool {
        switch self {
        case .reference: return true
        case .avx2: return bnk_cpu_has_avx2() != 0
        case .avx512vnni: return bnk_cpu_has_avx512vnni() != 0
        }
    }

    /// The set used by this process.
    public static let selected: KernelSet = {
        let supported = compiledIn.filter(\.isSupportedByCPU)
        if let raw = getenv("BITNET_KERNELS") {
            let forced: KernelSet? = switch String(cString: raw) {
            case "reference", "scalar": .reference
            case "avx2": .avx2
            case "avx512", "avx512vnni": .avx512vnni
            default: nil
            }
            if let forced, let index = compiledIn.firstIndex(of: forced) {
                return compiledIn[index...].first(where: \.isSupportedByCPU) ?? .reference
            }
        }
        return supported.first ?? .reference
    }()

    /// Whether the small AVX2 (+F16C) helper loops of the float paths run
    /// (half vectors, 8-bit KV, activation rows): for every set but the
    /// reference one, whose CPU check already guarantees AVX2.
    static let usesSIMDHelpers = selected != .reference

    /// "bitnet 0.1.0; kernels: avx512vnni avx2 reference; using avx512vnni"
    public static var buildDescription: String {
        let compiled = compiledIn.map(\.rawValue).joined(separator: " ")
        return "bitnet \(Version.string); kernels: \(compiled); using \(selected.rawValue)"
    }
}
