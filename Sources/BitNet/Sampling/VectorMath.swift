/// The two O(V) float reductions of the sampler — max and Σ exp(x − max) —
/// written on `SIMD16<Float>` so they run 16 lanes at a time: `expf` from libm
/// costs ~10 ns per call, which over 128k logits was most of a sample.
///
/// `exp` is the classic Cody–Waite reduction x = n·ln2 + r, |r| <= ln2/2, a
/// degree-6 Taylor polynomial for e^r (relative error ~2e-7, float rounding
/// level) and 2^n built in the exponent bits. Only x <= 0 is needed (logits
/// minus their max); inputs below −87 flush to 0.
enum VectorMath {
    typealias Lanes = SIMD16<Float>

    /// Largest element (−inf for an empty buffer). NaN must not be present.
    static func maximum(_ values: UnsafeBufferPointer<Float>) -> Float {
        let n = values.count
        var index = 0
        var result = -Float.infinity
        if n >= Lanes.scalarCount, let base = values.baseAddress {
            let raw = UnsafeRawPointer(base)
            var lanes = Lanes(repeating: -.infinity)
            while index + Lanes.scalarCount <= n {
                let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                lanes.replace(with: chunk, where: chunk .> lanes)
                index += Lanes.scalarCount
            }
            result = lanes.max()
        }
        while index < n {
            if values[index] > result { result = values[index] }
            index += 1
        }
        return result
    }

    /// Σ exp(values[i] − shift), for shift >= every value.
    static func sumExp(_ values: UnsafeBufferPointer<Float>, minus shift: Float) -> Float {
        let n = values.count
        var index = 0
        var total: Float = 0
        if n >= Lanes.scalarCount, let base = values.baseAddress {
            let raw = UnsafeRawPointer(base)
            var lanes = Lanes(repeating: 0)
            let shiftLanes = Lanes(repeating: shift)
            while index + Lanes.scalarCount <= n {
                let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                lanes += exp(chunk - shiftLanes)
                index += Lanes.scalarCount
            }
            total = lanes.sum()
        }
        while index < n {
            total += exp(values[index] - shift)
            index += 1
        }
        return total
    }

    /// weights[i] = exp(values[i] − shift), for shift >= every value.
    static func storeExp(_ values: UnsafeBufferPointer<Float>, minus shift: Float,
                         into weights: UnsafeMutableBufferPointer<Float>) {
        let n = min(values.count, weights.count)
        var index = 0
        if n >= Lanes.scalarCount, let base = values.baseAddress, let target = weights.baseAddress {
            let raw = UnsafeRawPointer(base)
            let out = UnsafeMutableRawPointer(target)
            let shiftLanes = Lanes(repeating: shift)
            while index + Lanes.scalarCount <= n {
                let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                out.storeBytes(of: exp(chunk - shiftLanes), toByteOffset: index * 4, as: Lanes.self)
                index += Lanes.scalarCount
            }
        }
        while index < n {
            weights[index] = exp(values[index] - shift)
            index += 1
        }
    }

    /// NaN → −inf (impossible), +inf → largest finite (exp(inf − inf) would be NaN).
    static func sanitize(_ values: UnsafeMutableBufferPointer<Float>) {
        let n = values.count
        var index = 0
        if n >= Lanes.scalarCount, let base = values.baseAddress {
            let raw = UnsafeMutableRawPointer(base)
            let infinity = Lanes(repeating: .infinity)
            while index + Lanes.scalarCount <= n {
                var chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                let isNaN = chunk .!= chunk
                let isInfinite = chunk .== infinity
                if any(isNaN .| isInfinite) {
                    chunk.replace(with: -.infinity, where: isNaN)
                    chunk.replace(with: .greatestFiniteMagnitude, where: isInfinite)
                    raw.storeBytes(of: chunk, toByteOffset: index * 4, as: Lanes.self)
                }
                index += Lanes.scalarCount
            }
        }
        while index < n {
            if values[index].isNaN {
                values[index] = -.infinity
            } else if values[index] == .infinity {
                values[index] = .greatestFiniteMagnitude
            }
            index += 1
        }
    }

    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        // Below −87.3 the result would be subnormal; flush those lanes (and −inf) to 0.
        let tooSmall = x .< -87.3
        let clamped = x.replacing(with: -87.3, where: tooSmall)
        // Adding 1.5·2^23 rounds x·log2(e) to the nearest integer n, which
        // then sits in the low mantissa bits of `shifted`.
        let magic = Lanes(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        var p = Lanes(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2^n: n's low bits moved into the exponent field, plus the bias 127.
        let bits = unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &<< 23 &+ SIMD16<UInt32>(repeating: 127 << 23)
        let scale = unsafeBitCast(bits, to: Lanes.self)
        return (p * scale).replacing(with: 0, where: tooSmall)
    }

    @inline(__always)
    static func exp(_ x: Float) -> Float {
        exp(Lanes(repeating: x))[0]
    }
}
