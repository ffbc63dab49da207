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
            let constants = ExpConstants()
            while index + Lanes.scalarCount <= n {
                let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                lanes += exp(chunk - shiftLanes, constants)
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

    /// Σ exp(x − shift) and Σ exp(x − shift)·(x − shift) together: the two
    /// sums an entropy needs. Values of −inf contribute 0 to both.
    static func sumExpAndWeightedShift(_ values: UnsafeBufferPointer<Float>, minus shift: Float)
        -> (sumExp: Float, weightedShift: Float) {
        let n = values.count
        var index = 0
        var sum: Float = 0
        var weighted: Float = 0
        if n >= Lanes.scalarCount, let base = values.baseAddress {
            let raw = UnsafeRawPointer(base)
            var sumLanes = Lanes(repeating: 0)
            var weightedLanes = Lanes(repeating: 0)
            let shiftLanes = Lanes(repeating: shift)
            let constants = ExpConstants()
            while index + Lanes.scalarCount <= n {
                let shifted = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self) - shiftLanes
                let weight = exp(shifted, constants)
                sumLanes += weight
                // 0 × −inf would be NaN: those lanes weigh 0 anyway.
                weightedLanes += weight * shifted.replacing(with: constants.zero, where: shifted .< constants.floor)
                index += Lanes.scalarCount
            }
            sum = sumLanes.sum()
            weighted = weightedLanes.sum()
        }
        while index < n {
            let shifted = values[index] - shift
            let weight = exp(shifted)
            sum += weight
            if weight > 0 { weighted += weight * shifted }
            index += 1
        }
        return (sum, weighted)
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
            let constants = ExpConstants()
            while index + Lanes.scalarCount <= n {
                let chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                out.storeBytes(of: exp(chunk - shiftLanes, constants), toByteOffset: index * 4, as: Lanes.self)
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
            let minusInfinity = Lanes(repeating: -.infinity)
            let largest = Lanes(repeating: .greatestFiniteMagnitude)
            while index + Lanes.scalarCount <= n {
                var chunk = raw.loadUnaligned(fromByteOffset: index * 4, as: Lanes.self)
                let isNaN = chunk .!= chunk
                let isInfinite = chunk .== infinity
                if any(isNaN .| isInfinite) {
                    chunk.replace(with: minusInfinity, where: isNaN)
                    chunk.replace(with: largest, where: isInfinite)
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

    /// The constants of `exp`, broadcast once per call of the outer loop:
    /// building a vector from a scalar inside a hot loop measured 10–40×
    /// slower here (the generic broadcast is not always specialized).
    struct ExpConstants {
        let floor = Lanes(repeating: -87.3)
        let magic = Lanes(repeating: 12_582_912)  // 1.5·2^23
        let log2e = Lanes(repeating: 1.442_695_04)
        let ln2High = Lanes(repeating: 0.693_359_375)
        let ln2Low = Lanes(repeating: -2.121_944_4e-4)
        let c6 = Lanes(repeating: 1.0 / 720)
        let c5 = Lanes(repeating: 1.0 / 120)
        let c4 = Lanes(repeating: 1.0 / 24)
        let c3 = Lanes(repeating: 1.0 / 6)
        let c2 = Lanes(repeating: 0.5)
        let one = Lanes(repeating: 1)
        let zero = Lanes(repeating: 0)
        let exponentBias = SIMD16<UInt32>(repeating: 127 << 23)
    }

    @inline(__always)
    static func exp(_ x: Lanes, _ c: ExpConstants = ExpConstants()) -> Lanes {
        // Below −87.3 the result would be subnormal; flush those lanes (and −inf) to 0.
        let tooSmall = x .< c.floor
        let clamped = x.replacing(with: c.floor, where: tooSmall)
        // Adding 1.5·2^23 rounds x·log2(e) to the nearest integer n, which
        // then sits in the low mantissa bits of `shifted`.
        let shifted = clamped * c.log2e + c.magic
        let n = shifted - c.magic
        let r = clamped - n * c.ln2High - n * c.ln2Low
        var p = c.c6
        p = p * r + c.c5
        p = p * r + c.c4
        p = p * r + c.c3
        p = p * r + c.c2
        p = p * r + c.one
        p = p * r + c.one
        // 2^n: n's low bits moved into the exponent field, plus the bias 127.
        let bits = (unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &<< 23) &+ c.exponentBias
        return (p * unsafeBitCast(bits, to: Lanes.self)).replacing(with: c.zero, where: tooSmall)
    }

    @inline(__always)
    static func exp(_ x: Float) -> Float {
        exp(Lanes(repeating: x))[0]
    }
}
