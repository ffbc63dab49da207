import CBitNetKernels

/// Vector operations on IEEE half values stored as raw `UInt16` bits (the KV
/// cache and F16 weights). The C versions use F16C (NEON on AArch64); the Swift
/// versions are the reference, run when the caller's kernel set is `.reference`.
package enum HalfVector {
    /// Σ a[i]·b[i].
    @inline(__always)
    package static func dot(_ a: UnsafePointer<UInt16>, _ b: UnsafePointer<Float>, _ n: Int,
                            kernels: KernelSet) -> Float {
        guard kernels.hasFloatSIMD else { return dotReference(a, b, n) }
        #if arch(arm64)
        return bnk_dot_f16_f32_neon(a, b, n)
        #else
        return bnk_dot_f16_f32_avx2(a, b, n)
        #endif
    }

    /// y[i] += alpha·x[i].
    @inline(__always)
    package static func axpy(_ alpha: Float, _ x: UnsafePointer<UInt16>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                             kernels: KernelSet) {
        guard kernels.hasFloatSIMD else { return axpyReference(alpha, x, y, n) }
        #if arch(arm64)
        bnk_axpy_f16_f32_neon(alpha, x, y, n)
        #else
        bnk_axpy_f16_f32_avx2(alpha, x, y, n)
        #endif
    }

    /// dst[i] = half(src[i]), rounding to nearest even.
    package static func store(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int,
                              kernels: KernelSet) {
        guard kernels.hasFloatSIMD else { return storeReference(src, dst, n) }
        #if arch(arm64)
        bnk_f32_to_f16_neon(src, dst, n)
        #else
        bnk_f32_to_f16_avx2(src, dst, n)
        #endif
    }

    /// dst[i] = float(src[i]).
    package static func load(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                             kernels: KernelSet) {
        guard kernels.hasFloatSIMD else { return loadReference(src, dst, n) }
        #if arch(arm64)
        bnk_f16_to_f32_neon(src, dst, n)
        #else
        bnk_f16_to_f32_avx2(src, dst, n)
        #endif
    }

    // MARK: - Reference twins

    package static func dotReference(_ a: UnsafePointer<UInt16>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var sum: Float = 0
        for i in 0..<n { sum += HalfPrecision.float(fromHalf: a[i]) * b[i] }
        return sum
    }

    package static func axpyReference(_ alpha: Float, _ x: UnsafePointer<UInt16>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += alpha * HalfPrecision.float(fromHalf: x[i]) }
    }

    package static func storeReference(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, _ n: Int) {
        for i in 0..<n { dst[i] = Float16(src[i]).bitPattern }
    }

    package static func loadReference(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { dst[i] = HalfPrecision.float(fromHalf: src[i]) }
    }
}
