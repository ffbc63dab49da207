import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Not a timed test: prints kernel timings when BITNET_BENCH=1 (use a
/// release build, see BENCHMARKS.md "Kernels").
@Suite struct KernelBenchmarkTests {
    @Test(.enabled(if: getenv("BITNET_BENCH") != nil))
    func printKernelTimings() throws {
        let results = try KernelBenchmark.run()
        for result in results { print(result) }
        #expect(results.allSatisfy { $0.microseconds > 0 && $0.microseconds.isFinite })
    }
}
