#if canImport(Glibc)
import Glibc
#endif

/// Int8 activations of up to `capacity` tokens, quantized per token (the
/// paper's absmax rule), laid out as the ternary kernels read them.
final class ActivationBatch {
    let capacity: Int
    let width: Int
    /// [capacity][width] int8, 64-byte aligned rows (width is a multiple of 128).
    let q: UnsafeMutablePointer<Int8>
    /// Per token: Σ q over the row (the kernels' code-offset correction).
    let sums: UnsafeMutablePointer<Int32>
    /// Per token: 1 / s, the dequantization factor.
    let inverseScales: UnsafeMutablePointer<Float>

    init(capacity: Int, width: Int) throws(BitNetError) {
        self.capacity = capacity
        self.width = width
        let bytes = try Memory.checkedProduct([capacity, width], what: "activation buffer")
        q = try Memory.allocate(bytes: bytes, what: "activation buffer").assumingMemoryBound(to: Int8.self)
        sums = .allocate(capacity: capacity)
        inverseScales = .allocate(capacity: capacity)
    }

    deinit {
        free(q)
        sums.deallocate()
        inverseScales.deallocate()
    }

    /// Quantizes `count` tokens of `columns` floats each (row stride `stride`).
    func quantize(_ x: UnsafePointer<Float>, stride: Int, columns: Int, count: Int) {
        for t in 0..<count {
            let (inverseScale, sum) = ActivationQuantizer.quantize(x + t * stride, count: columns, into: q + t * width)
            inverseScales[t] = inverseScale
            sums[t] = sum
        }
    }
}
