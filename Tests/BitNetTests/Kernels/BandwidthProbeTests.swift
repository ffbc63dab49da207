import Testing
@testable import BitNet

@Suite struct BandwidthProbeTests {
    @Test(arguments: [0, 1, 7, 31, 32, 33, 1000, 4099])
    func simdSumsMatchReference(count: Int) throws {
        var rng = SplitMix64(seed: UInt64(count) + 5)
        var words = (0..<max(count, 1)).map { _ in rng.next() }
        for kernels in KernelSet.allCases where kernels.isSupportedByCPU {
            let sum = words.withUnsafeMutableBufferPointer { BandwidthProbe.sumWords($0.baseAddress!, count: count, kernels: kernels) }
            let expected = words.withUnsafeMutableBufferPointer { BandwidthProbe.sumWordsReference($0.baseAddress!, count: count) }
            #expect(sum == expected, "\(kernels)")
        }
    }

    @Test func probeReportsAPlausibleRate() throws {
        let pool = try ThreadPool(threadCount: 1)
        let gbps = try BandwidthProbe.readGigabytesPerSecond(bytes: 1 << 22, pool: pool, repetitions: 2)
        #expect(gbps > 0.1 && gbps < 10_000)
    }
}
