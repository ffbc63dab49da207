/// Ternarization of float (F32 / F16 / BF16) linear weights at load.
///
/// The rule:
/// * If the weights are already ternary-valued — every nonzero |w| equals
///   one value β, as in llama.cpp conversions of BitNet checkpoints and the
///   golden F16 file — then T = sign(w) and scale = β, recovered exactly.
/// * Otherwise the BitNet b1.58 absmean rule: γ = mean|W| over the whole
///   tensor, β = max(γ, 1e-5), T = clamp(round_half_even(W / β), −1, 1),
///   scale = β. (This is lossy: a float checkpoint that was not trained for
///   ternary weights will not survive it.)
/// Non-finite weights are a format error.
enum TernaryQuantizer {
    /// Two different nonzero magnitudes among `count` float values, or nil
    /// when the values are {−s, 0, +s} (ternary). Stops at the first proof.
    static func twoMagnitudes(type: UInt32, _ data: UnsafeRawBufferPointer, count: Int) -> (Float, Float)? {
        let elementSize = type == PackedTernaryMatrix.SourceType.f32 ? 4 : 2
        guard let base = data.baseAddress, data.count >= count * elementSize else { return nil }
        var beta: Float = 0
        let chunk = 4096
        var row = [Float](repeating: 0, count: chunk)
        var start = 0
        while start < count {
            let n = Swift.min(chunk, count - start)
            let found: (Float, Float)? = row.withUnsafeMutableBufferPointer { buffer in
                // A "row" of n values at offset `start`: loadRow indexes r * cols + k.
                loadRow(type, base + start * elementSize, row: 0, cols: n, into: buffer.baseAddress!)
                for k in 0..<n {
                    let magnitude = abs(buffer[k])
                    if magnitude == 0 { continue }
                    if beta == 0 { beta = magnitude } else if magnitude != beta { return (beta, magnitude) }
                }
                return nil
            }
            if let found { return found }
            start += n
        }
        return nil
    }

    /// Reads row `r` of a float tensor into `out` as Float.
    private static func loadRow(_ type: UInt32, _ base: UnsafeRawPointer, row r: Int, cols: Int,
                                into out: UnsafeMutablePointer<Float>) {
        switch type {
        case PackedTernaryMatrix.SourceType.f32:
            for k in 0..<cols { out[k] = base.loadUnaligned(fromByteOffset: (r * cols + k) * 4, as: Float.self) }
        case PackedTernaryMatrix.SourceType.f16:
            for k in 0..<cols {
                out[k] = HalfPrecision.float(fromHalf: base.loadUnaligned(fromByteOffset: (r * cols + k) * 2, as: UInt16.self))
            }
        default:
            for k in 0..<cols {
                out[k] = HalfPrecision.float(fromBFloat: base.loadUnaligned(fromByteOffset: (r * cols + k) * 2, as: UInt16.self))
            }
        }
    }

    /// Ternarizes the tensor into `codes` (packed layout) and returns its scale.
    /// `requireTernary`: refuse weights that are not already ternary-valued
    /// instead of ternarizing them.
    static func pack(type: UInt32, _ data: UnsafeRawBufferPointer, rows: Int, cols: Int,
                     into codes: AlignedMemory, requireTernary: Bool = false) throws(BitNetError) -> Float {
        let elementSize = type == PackedTernaryMatrix.SourceType.f32 ? 4 : 2
        let count = rows * cols
        guard data.count >= count * elementSize, let base = data.baseAddress else {
            throw .format("float weight \(rows)x\(cols): needs \(count * elementSize) bytes, got \(data.count)")
        }
        var row = [Float](repeating: 0, count: cols)
        // Pass 1: statistics.
        var beta: Float = 0
        var exactlyTernary = true
        var otherMagnitude: Float = 0  // a second nonzero |w|, for the error message
        var absSum: Double = 0
        for r in 0..<rows {
            try row.withUnsafeMutableBufferPointer { (buffer) throws(BitNetError) in
                loadRow(type, base, row: r, cols: cols, into: buffer.baseAddress!)
                for k in 0..<cols {
                    let magnitude = abs(buffer[k])
                    guard magnitude.isFinite else {
                        throw .format("float weight: non-finite value at [\(r)][\(k)]")
                    }
                    absSum += Double(magnitude)
                    if magnitude != 0 {
                        if beta == 0 {
                            beta = magnitude
                        } else if magnitude != beta && exactlyTernary {
                            exactlyTernary = false
                            otherMagnitude = magnitude
                        }
                    }
                }
            }
        }
        if !exactlyTernary && requireTernary {
            throw .unsupported("weights are not ternary: nonzero magnitudes \(beta) and \(otherMagnitude) in one tensor, expected {-s, 0, +s}; this architecture is run only for ternary (BitNet b1.58) checkpoints")
        }
        if !exactlyTernary {
            beta = Swift.max(Float(absSum / Double(count)), 1e-5)
        }
        let inverse = beta == 0 ? 0 : 1 / beta
        // Pass 2: codes.
        // Columns past `cols` (padding to the 128-column block) keep code 1, w = 0.
        let blocksPerRow = PackedTernaryMatrix.paddedColumns(cols) / 128
        var rowCodes = [UInt8](repeating: 1, count: blocksPerRow * 128)
        let destination = codes.typed(UInt8.self)
        let tileRows = PackedTernaryMatrix.tileRows
        for r in 0..<rows {
            row.withUnsafeMutableBufferPointer { buffer in
                loadRow(type, base, row: r, cols: cols, into: buffer.baseAddress!)
                for k in 0..<cols {
                    let t = (buffer[k] * inverse).rounded(.toNearestOrEven)
                    rowCodes[k] = t >= 1 ? 2 : (t <= -1 ? 0 : 1)
                }
            }
            rowCodes.withUnsafeBufferPointer { source in
                for b in 0..<blocksPerRow {
                    let to = destination + ((r / tileRows) * blocksPerRow + b) * 128 + (r % tileRows) * 32
                    TernaryFormats.packBlock(source.baseAddress! + b * 128, into: to)
                }
            }
        }
        return beta
    }
}
