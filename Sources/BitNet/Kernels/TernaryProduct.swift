import CBitNetKernels

/// y = W · x for a `PackedTernaryMatrix` W and int8 activations x:
///
///     y[t][r] = scale_r / s_t · Σ_k T[r][k] · q[t][k]
///
/// One token is a matrix-vector product (decode), several tokens a
/// matrix-matrix product in which every weight block load serves up to four
/// tokens (prompt processing). Callers split the work across threads by row
/// ranges; ranges aligned to `PackedTernaryMatrix.tileRows` avoid computing a
/// shared tile twice (`rowRange(part:of:)`).
extension PackedTernaryMatrix {
    /// Computes rows `rows` of y for all `x.count` tokens.
    ///
    /// - Parameters:
    ///   - x: quantized activations with `x.cols == cols`.
    ///   - y: output, token t's row r at `y[t * yStride + r]`.
    ///   - yStride: distance between tokens in y (≥ the matrix's rows when
    ///     tokens are stored one after another; ignored for one token).
    ///   - rows: the rows to compute, a subrange of `0..<rows`.
    ///   - kernels: implementation; tests pass each set explicitly.
    package func multiply(_ x: QuantizedActivations, into y: UnsafeMutablePointer<Float>, yStride: Int,
                         rows range: Range<Int>, kernels: KernelSet) {
        precondition(x.cols == cols && range.lowerBound >= 0 && range.upperBound <= rows,
                     "ternary product: shape mismatch")
        guard !range.isEmpty, x.count > 0 else { return }
        let scalePointer = UnsafePointer(scales.typed(Float.self))
        var args = bnk_ternary_args(
            packed: UnsafePointer(codes.typed(UInt8.self)), blocks_per_row: blocksPerRow,
            row_begin: range.lowerBound, row_end: range.upperBound,
            block_begin: 0, block_end: blocksPerRow,
            q: UnsafePointer(x.values.typed(Int8.self)), q_stride: x.stride,
            q_sum: UnsafePointer(x.sums.typed(Int32.self)),
            inv_scale: UnsafePointer(x.inverseScales.typed(Float.self)), n_tokens: x.count,
            row_scale: scalePointer, row_scale_stride: 1,
            y: y, y_stride: yStride, accumulate: 0)
        if let groupColumns = x.groupColumns {
            // Activations with a scale per 256 columns (llama.cpp's Q8_K
            // numerics): one pass per group with that group's Σq and 1/s;
            // the weight's 256-column scale groups line up with them.
            let blocksPerGroup = groupColumns / Self.blockColumns
            for g in 0..<x.groups {
                args.q_sum = UnsafePointer(x.sums.typed(Int32.self) + g * x.capacity)
                args.inv_scale = UnsafePointer(x.inverseScales.typed(Float.self) + g * x.capacity)
                args.block_begin = g * blocksPerGroup
                args.block_end = Swift.min((g + 1) * blocksPerGroup, blocksPerRow)
                args.row_scale = scalePointer + (scaleGroups == 1 ? 0 : g)
                args.row_scale_stride = scaleGroups
                args.accumulate = g == 0 ? 0 : 1
                Self.run(&args, kernels)
            }
            return
        }
        if scaleGroups == 1 {
            Self.run(&args, kernels)
            return
        }
        // Scales vary along rows: one pass per 256-column group, each with
        // its own Σq, accumulating into y.
        let blocksPerGroup = Self.scaleGroupColumns / Self.blockColumns
        var groupSums = [Int32](repeating: 0, count: x.count)
        for g in 0..<scaleGroups {
            let columns = (g * Self.scaleGroupColumns)..<((g + 1) * Self.scaleGroupColumns)
            for t in 0..<x.count {
                let row = x.row(t)
                var total: Int32 = 0
                for k in columns { total &+= Int32(row[k]) }
                groupSums[t] = total
            }
            groupSums.withUnsafeBufferPointer { sums in
                args.q_sum = sums.baseAddress
                args.block_begin = g * blocksPerGroup
                args.block_end = (g + 1) * blocksPerGroup
                args.row_scale = scalePointer + g
                args.row_scale_stride = scaleGroups
                args.accumulate = g == 0 ? 0 : 1
                Self.run(&args, kernels)
            }
        }
    }

    /// One token: `y[r]` for r in `rows`.
    package func multiply(_ x: QuantizedActivations, into y: UnsafeMutableBufferPointer<Float>,
                         rows range: Range<Int>, kernels: KernelSet) {
        precondition(y.count >= range.upperBound && x.count == 1)
        multiply(x, into: y.baseAddress!, yStride: rows, rows: range, kernels: kernels)
    }

    /// All rows for all tokens, spread over `pool`'s threads.
    ///
    /// The rows are cut into several parts per thread (on tile boundaries),
    /// claimed dynamically: when another process takes a core for a while,
    /// the other thread picks up the slack instead of waiting for it.
    package func multiply(_ x: QuantizedActivations, into y: UnsafeMutablePointer<Float>, yStride: Int,
                         pool: ThreadPool, kernels: KernelSet) {
        let parts = Swift.min(pool.threadCount * Self.partsPerThread, tileCount)
        pool.parallelFor(parts) { part in
            multiply(x, into: y, yStride: yStride, rows: rowRange(part: part, of: parts), kernels: kernels)
        }
    }

    /// Several matrices reading the same activations (q/k/v, gate/up) in one
    /// `parallelFor`, so the threads synchronize once instead of per matrix.
    /// Every matrix's rows are cut into parts as in `multiply(_:into:yStride:pool:)`.
    package static func multiply(_ products: [TernaryProductTarget], _ x: QuantizedActivations,
                                pool: ThreadPool, kernels: KernelSet) {
        var offsets: [Int] = [0]  // first part index of each product
        var partCounts: [Int] = []
        for product in products {
            let parts = Swift.min(pool.threadCount * partsPerThread, product.matrix.tileCount)
            partCounts.append(parts)
            offsets.append(offsets[offsets.count - 1] + parts)
        }
        pool.parallelFor(offsets[offsets.count - 1]) { index in
            var p = 0
            while offsets[p + 1] <= index { p += 1 }
            let product = products[p]
            let range = product.matrix.rowRange(part: index - offsets[p], of: partCounts[p])
            product.matrix.multiply(x, into: product.y, yStride: product.yStride, rows: range, kernels: kernels)
        }
    }

    /// Parts per thread in `multiply(_:into:yStride:pool:)`. More parts
    /// balance better when another process steals a core, but every part
    /// starts a new memory stream: decode on the 2B4T shape measured
    /// 1 ≈ 2 > 4 (−1.5%) > 8 (−3%) parts per thread.
    package static let partsPerThread = 2

    /// Part `part` of `parts` of the rows, split on tile boundaries.
    package func rowRange(part: Int, of parts: Int) -> Range<Int> {
        let tilesPerPart = (tileCount + parts - 1) / parts
        let lower = Swift.min(part * tilesPerPart * Self.tileRows, rows)
        let upper = Swift.min((part + 1) * tilesPerPart * Self.tileRows, rows)
        return lower..<upper
    }

    @inline(__always)
    static func run(_ args: inout bnk_ternary_args, _ kernels: KernelSet) {
        switch kernels {
        case .avx512vnni: bnk_ternary_avx512vnni(&args)
        case .avx2: bnk_ternary_avx2(&args)
        case .reference: TernaryReferenceKernel.run(args)
        #if arch(arm64)
        case .neon: bnk_ternary_neon(&args)
        case .neonDotprod: bnk_ternary_neon_dotprod(&args)
        case .neonI8mm: bnk_ternary_neon_i8mm(&args)
        #endif
        }
    }
}

/// The executable specification of `bnk_ternary_*` (see bitnet_kernels.h):
/// plain loops, same float epilogue in the same order, so SIMD results must
/// match it bit for bit.
enum TernaryReferenceKernel {
    static func run(_ a: bnk_ternary_args) {
        guard a.row_begin < a.row_end, a.n_tokens > 0,
              let packed = a.packed, let q = a.q, let qSum = a.q_sum, let inverse = a.inv_scale,
              let rowScale = a.row_scale, let y = a.y else { return }
        let tileRows = PackedTernaryMatrix.tileRows
        for t in 0..<a.n_tokens {
            let qt = q + t * a.q_stride
            for r in a.row_begin..<a.row_end {
                var dot: Int32 = 0
                for b in a.block_begin..<a.block_end {
                    let block = packed + ((r / tileRows) * a.blocks_per_row + b) * 128 + (r % tileRows) * 32
                    let qb = qt + b * 128
                    for k in 0..<128 {
                        dot &+= Int32(TernaryFormats.code(in: block, column: k)) * Int32(qb[k])
                    }
                }
                var v = Float(dot &- qSum[t]) * rowScale[r * a.row_scale_stride]
                v = v * inverse[t]
                let destination = y + t * a.y_stride + r
                destination.pointee = a.accumulate != 0 ? destination.pointee + v : v
            }
        }
    }
}

/// One output of `PackedTernaryMatrix.multiply(_:_:pool:)`: y = matrix · x with
/// token t's row r at `y[t * yStride + r]`.
package struct TernaryProductTarget {
    package var matrix: PackedTernaryMatrix
    package var y: UnsafeMutablePointer<Float>
    package var yStride: Int

    package init(_ matrix: PackedTernaryMatrix, into y: UnsafeMutablePointer<Float>, yStride: Int) {
        self.matrix = matrix
        self.y = y
        self.yStride = yStride
    }
}
