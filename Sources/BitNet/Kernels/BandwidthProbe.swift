import CBitNetKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures how fast this machine streams memory into the cores: the floor
/// under any memory-bound decode (`floor tok/s = read GB/s ÷ bytes per token`).
package enum BandwidthProbe {
    /// Best of `repetitions` reads of a `bytes`-sized buffer split across the
    /// pool's threads, in GB/s (10^9 bytes). The buffer is written first so
    /// every page is resident and no fault is timed. `kernels` defaults to the
    /// process default set: the probe belongs to no context.
    package static func readGigabytesPerSecond(bytes: Int = 1 << 30, pool: ThreadPool, repetitions: Int = 3,
                                              kernels: KernelSet = .selected) throws(BitNetError) -> Double {
        let words = max(bytes / 8, 1024)
        // On huge pages like the weights (HugePageArena): the floor is what
        // the machine can do, not what 4 KB pages allow.
        let buffer = try HugePageArena().allocate(byteCount: words * 8, what: "bandwidth probe buffer")
        let base = buffer.typed(UInt64.self)
        for i in 0..<words { base[i] = UInt64(truncatingIfNeeded: i) }
        let parts = pool.threadCount
        var sums = [UInt64](repeating: 0, count: parts * 8)  // 64 bytes apart: no false sharing
        var best = 0.0
        for _ in 0..<max(repetitions, 1) {
            let start = ContinuousClock.now
            sums.withUnsafeMutableBufferPointer { out in
                pool.parallelFor(parts) { part in
                    let lower = words * part / parts, upper = words * (part + 1) / parts
                    out[part * 8] = sumWords(base + lower, count: upper - lower, kernels: kernels)
                }
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            best = max(best, Double(words * 8) / seconds / 1e9)
        }
        // Keep the sums observable so the reads cannot be optimized away.
        if sums.reduce(0, &+) == 1 { Log.debug("bandwidth probe checksum 1") }
        return best
    }

    /// Σ p[0..<n] (wrapping). The C versions use wide loads; Swift's
    /// compiler splits this loop into 16-byte pieces, too slow to measure memory.
    static func sumWords(_ p: UnsafeMutablePointer<UInt64>, count n: Int, kernels: KernelSet) -> UInt64 {
        switch kernels {
        case .avx512vnni: return bnk_sum_words_avx512(p, n)
        case .avx2: return bnk_sum_words_avx2(p, n)
        case .reference: return sumWordsReference(p, count: n)
        #if arch(arm64)
        case .neon, .neonDotprod, .neonI8mm: return bnk_sum_words_neon(p, n)
        #endif
        }
    }

    static func sumWordsReference(_ p: UnsafeMutablePointer<UInt64>, count n: Int) -> UInt64 {
        var a0: UInt64 = 0, a1: UInt64 = 0, a2: UInt64 = 0, a3: UInt64 = 0
        var a4: UInt64 = 0, a5: UInt64 = 0, a6: UInt64 = 0, a7: UInt64 = 0
        var i = 0
        while i + 8 <= n {
            a0 &+= p[i]; a1 &+= p[i + 1]; a2 &+= p[i + 2]; a3 &+= p[i + 3]
            a4 &+= p[i + 4]; a5 &+= p[i + 5]; a6 &+= p[i + 6]; a7 &+= p[i + 7]
            i += 8
        }
        while i < n { a0 &+= p[i]; i += 1 }
        return a0 &+ a1 &+ a2 &+ a3 &+ a4 &+ a5 &+ a6 &+ a7
    }
}
