import CBitNetKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The float work of the forward pass: norms, activations, softmax. Plain
/// loops over unsafe pointers, which the compiler vectorizes.
package enum FloatOps {
    /// out = x / sqrt(mean(x²) + eps) · weight. The sum of squares is taken in
    /// Double: it costs nothing at these sizes and keeps the scale exact to f32.
    @inline(__always)
    package static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                               into out: UnsafeMutablePointer<Float>, count n: Int, kernels: KernelSet) {
        let sum = sumOfSquares(x, count: n, kernels: kernels)
        let scale = Float(1.0 / (sum / Double(n) + Double(eps)).squareRoot())
        for i in 0..<n { out[i] = x[i] * scale * weight[i] }
    }

    /// Σ x[i]² in Double, summed in the order `sumOfSquaresReference` defines.
    @inline(__always)
    package static func sumOfSquares(_ x: UnsafePointer<Float>, count n: Int, kernels: KernelSet) -> Double {
        guard kernels.hasFloatSIMD else { return sumOfSquaresReference(x, count: n) }
        #if arch(arm64)
        return bnk_sum_squares_neon(x, n)
        #else
        return bnk_sum_squares_avx2(x, n)
        #endif
    }

    /// The spec of `bnk_sum_squares_avx2`: 16 independent partial sums (lane
    /// j takes elements 16c + j of the whole 16-element chunks), folded in
    /// halves, then the tail added in order. Independent lanes are what let
    /// the SIMD version run at throughput instead of one add latency per
    /// element; a single running sum made the norms ~3% of a decoded token.
    package static func sumOfSquaresReference(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 16) { lanes in
            lanes.initialize(repeating: 0)
            let whole = n / 16 * 16
            var i = 0
            while i < whole {
                for j in 0..<16 { lanes[j] += Double(x[i + j]) * Double(x[i + j]) }
                i += 16
            }
            var width = 8
            while width >= 1 {
                for j in 0..<width { lanes[j] += lanes[j + width] }
                width /= 2
            }
            var sum = lanes[0]
            for k in whole..<n { sum += Double(x[k]) * Double(x[k]) }
            return sum
        }
    }

    /// x[i] = relu(g[i])² · u[i]  (BitNet b1.58's FFN gate).
    @inline(__always)
    package static func relu2Gate(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                 into out: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let g = max(gate[i], 0)
            out[i] = g * g * up[i]
        }
    }

    /// x[i] = silu(g[i]) · u[i]  (llama-style FFN gate).
    @inline(__always)
    package static func siluGate(_ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>,
                                into out: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let g = gate[i]
            out[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// In-place softmax; returns nothing, leaves probabilities summing to 1.
    @inline(__always)
    package static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        guard n > 0 else { return }
        var maxValue = x[0]
        for i in 1..<n { maxValue = max(maxValue, x[i]) }
        var sum: Float = 0
        for i in 0..<n {
            let e = expf(x[i] - maxValue)
            x[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<n { x[i] *= inv }
    }

    /// y[i] += x[i].
    @inline(__always)
    package static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }
}
