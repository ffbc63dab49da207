#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Timings of the ternary products on synthetic 2B4T-shaped matrices, for
/// `BENCHMARKS.md` and a future `bitnet bench` command. Meaningful only in a
/// release build.
///
/// Shapes (rows × cols = outputs × inputs): 6912×2560 (ffn_gate/up) and
/// 2560×6912 (ffn_down). "hot" repeats one matrix (weights stay in cache);
/// "cold" cycles through a set of copies larger than `coldSetBytes`, so every
/// call streams its weights from DRAM, as decoding a real model does.
package enum KernelBenchmark {
    package struct Result: Sendable, CustomStringConvertible {
        package var operation: String     // "matvec hot", "matvec cold", "matmul 128"
        package var shape: String         // "6912x2560"
        package var kernels: KernelSet
        package var threads: Int
        package var microseconds: Double  // per product (best of several runs)
        package var weightBytes: Int
        package var macs: Int

        package var gigabytesPerSecond: Double { Double(weightBytes) / microseconds / 1e3 }
        package var gigaMACsPerSecond: Double { Double(macs) / microseconds / 1e3 }

        package var description: String {
            let time = microseconds >= 1000 ? "\(rounded(microseconds / 1000, 2)) ms" : "\(rounded(microseconds, 1)) µs"
            return "\(operation) \(shape) \(kernels.rawValue) t\(threads): \(time), "
                + "\(rounded(gigabytesPerSecond, 1)) GB/s weights, \(rounded(gigaMACsPerSecond, 1)) GMAC/s"
        }
    }

    /// Runs every combination; `kernelSets` defaults to the CPU's supported sets.
    package static func run(kernelSets: [KernelSet] = KernelSet.allCases.filter(\.isSupportedByCPU),
                           threadCounts: [Int] = [1, 2], promptTokens: Int = 128,
                           coldSetBytes: Int = 384 << 20) throws(BitNetError) -> [Result] {
        var results: [Result] = []
        let pools = try threadCounts.map { (count) throws(BitNetError) in try ThreadPool(threadCount: count, pinToCPUs: getenv("BITNET_NO_PIN") == nil) }
        for (rows, cols) in [(6912, 2560), (2560, 6912)] {
            let matrix = try randomMatrix(rows: rows, cols: cols, seed: UInt64(rows))
            let copies = Swift.max(1, coldSetBytes / matrix.byteCount + 1)
            var coldSet = [matrix]
            for _ in 1..<copies { coldSet.append(try matrix.copy()) }
            let single = try activations(cols: cols, tokens: 1)
            let prompt = try activations(cols: cols, tokens: promptTokens)
            var y = [Float](repeating: 0, count: rows * promptTokens)
            let shape = "\(rows)x\(cols)"
            for kernels in kernelSets {
                for pool in pools {
                    let threads = pool.threadCount
                    // The reference kernel is ~100x slower: only its hot matvec is timed.
                    let slow = kernels == .reference
                    y.withUnsafeMutableBufferPointer { out in
                        let y = out.baseAddress!
                        func product(_ m: PackedTernaryMatrix, _ x: QuantizedActivations) {
                            m.multiply(x, into: y, yStride: rows, pool: pool, kernels: kernels)
                        }
                        let hot = time(repeats: slow ? 3 : 300) { _ in product(matrix, single) }
                        results.append(Result(operation: "matvec hot", shape: shape, kernels: kernels, threads: threads,
                                              microseconds: hot, weightBytes: matrix.byteCount, macs: rows * cols))
                        if !slow {
                            let cold = time(repeats: coldSet.count * 3) { i in product(coldSet[i % coldSet.count], single) }
                            results.append(Result(operation: "matvec cold", shape: shape, kernels: kernels, threads: threads,
                                                  microseconds: cold, weightBytes: matrix.byteCount, macs: rows * cols))
                        }
                        if !slow {
                            let batch = time(repeats: 5) { _ in product(matrix, prompt) }
                            results.append(Result(operation: "matmul \(promptTokens)", shape: shape, kernels: kernels,
                                                  threads: threads, microseconds: batch, weightBytes: matrix.byteCount,
                                                  macs: rows * cols * promptTokens))
                        }
                    }
                }
            }
        }
        results += try denseAndQuantization(kernelSets: kernelSets, pools: pools)
        return results
    }

    /// The LM head's F16 dots (a 16384×2560 slice, 84 MB: streamed from DRAM)
    /// and activation quantization of one 2560-wide token.
    static func denseAndQuantization(kernelSets: [KernelSet], pools: [ThreadPool]) throws(BitNetError) -> [Result] {
        var results: [Result] = []
        let rows = 16384, cols = 2560
        var halves = [UInt16](repeating: 0, count: rows * cols)
        for i in halves.indices { halves[i] = Float16(Float((i * 7919) % 2001) / 1000 - 1).bitPattern }
        let x = (0..<cols).map { Float(($0 * 31) % 101) / 50 - 1 }
        var y = [Float](repeating: 0, count: rows)
        var failure: BitNetError?
        halves.withUnsafeBytes { raw in
            let matrix: DenseMatrix
            do throws(BitNetError) {
                matrix = try DenseMatrix(type: DenseMatrix.Storage.f16.rawValue, rows: rows, cols: cols, data: raw)
            } catch {
                failure = error
                return
            }
            for kernels in kernelSets where kernels != .reference {
                for pool in pools {
                    let parts = pool.threadCount * 4
                    let micros = x.withUnsafeBufferPointer { xs in
                        y.withUnsafeMutableBufferPointer { out in
                            time(repeats: 10) { _ in
                                pool.parallelFor(parts) { part in
                                    let lower = rows * part / parts, upper = rows * (part + 1) / parts
                                    matrix.multiply(xs.baseAddress!, into: out.baseAddress!, rows: lower..<upper, kernels: kernels)
                                }
                            }
                        }
                    }
                    results.append(Result(operation: "f16 dots", shape: "\(rows)x\(cols)", kernels: kernels,
                                          threads: pool.threadCount, microseconds: micros,
                                          weightBytes: rows * cols * 2, macs: rows * cols))
                }
            }
        }
        if let failure { throw failure }
        // Load-time repacking of one 6912×2560 I2_S tensor (bytes as in a GGUF file).
        let (packRows, packCols) = (6912, 2560)
        var i2s = [UInt8](repeating: 0, count: packRows * packCols / 4 + 32)
        for i in 0..<(i2s.count - 32) { i2s[i] = UInt8(truncatingIfNeeded: (i &* 2_654_435_761) >> 7) & 0x55 }
        var packFailure: BitNetError?
        let packMicros = i2s.withUnsafeBytes { raw in
            time(repeats: 3) { _ in
                do throws(BitNetError) {
                    _ = try PackedTernaryMatrix(type: PackedTernaryMatrix.SourceType.i2_s, rows: packRows, cols: packCols,
                                                data: raw, extraScale: nil)
                } catch { packFailure = error }
            }
        }
        if let packFailure { throw packFailure }
        results.append(Result(operation: "pack I2_S", shape: "\(packRows)x\(packCols)", kernels: .reference, threads: 1,
                              microseconds: packMicros, weightBytes: packRows * packCols / 4, macs: packRows * packCols))
        let activations = try QuantizedActivations(cols: cols, capacity: 1)
        // The activation rows of a default context: the process default set (no context here).
        let rowKernels = KernelSet.selected
        let micros = x.withUnsafeBufferPointer { xs in
            time(repeats: 1000) { _ in activations.quantize(xs, kernels: rowKernels) }
        }
        results.append(Result(operation: "quantize", shape: "1x\(cols)", kernels: rowKernels, threads: 1,
                              microseconds: micros, weightBytes: cols * 4, macs: cols))
        return results
    }

    /// Best time in µs of `repeats` calls, measured in 5 rounds (the minimum
    /// round average filters out interference from other processes).
    static func time(repeats: Int, _ body: (Int) -> Void) -> Double {
        body(0)  // warm up
        var best = Double.infinity
        for _ in 0..<5 {
            let start = now()
            for i in 0..<repeats { body(i) }
            best = Swift.min(best, (now() - start) / Double(repeats))
        }
        return best
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1e6 + Double(ts.tv_nsec) / 1e3
    }

    static func randomMatrix(rows: Int, cols: Int, seed: UInt64) throws(BitNetError) -> PackedTernaryMatrix {
        var state = seed
        var values = [Int8](repeating: 0, count: rows * cols)
        for i in values.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            values[i] = Int8(truncatingIfNeeded: (state >> 33) % 3) - 1
        }
        return try values.withUnsafeBufferPointer { (v) throws(BitNetError) in
            try PackedTernaryMatrix(ternary: v, rows: rows, cols: cols, rowScales: [Float](repeating: 0.5, count: rows))
        }
    }

    static func activations(cols: Int, tokens: Int) throws(BitNetError) -> QuantizedActivations {
        let x = (0..<cols * tokens).map { Float(($0 * 7919) % 255) / 127 - 1 }
        let result = try QuantizedActivations(cols: cols, capacity: tokens)
        // Inputs only (every set quantizes bit-identically): the process default set.
        x.withUnsafeBufferPointer { result.quantize($0.baseAddress!, tokens: tokens, stride: cols, kernels: .selected) }
        return result
    }

    private static func rounded(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let whole = (value * scale).rounded() / scale
        return "\(whole)"
    }
}
