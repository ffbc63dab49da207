import CBitNetKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A ternary weight matrix W[rows][cols] = T · scale, repacked at load into
/// the layout the int8 kernels stream through (`bitnet_kernels.h`):
/// 2-bit codes c = w + 1, tiles of 4 rows whose 128-column blocks sit next to
/// each other, so one pass over memory feeds 4 row accumulators; 64-byte
/// aligned; ~2 bits per weight plus one float scale per row.
///
/// Scales: I2_S has one f32 per tensor, TQ1_0/TQ2_0 one f16 `d` per 256
/// elements, ternarized float weights one β. When every row has a single
/// scale (always, except TQ files whose `d` varies along a row) the kernels
/// run in one pass; otherwise each 256-column group is a separate pass that
/// accumulates into y. An optional `extraScale` (a separate `.scale` tensor)
/// multiplies everything.
///
/// Any row length: rows are padded with w = 0 up to a multiple of 128
/// (`paddedCols`), and `QuantizedActivations` pads its rows with q = 0 to the
/// same width, so the padding adds exact zeros and never changes a product.
/// Widths that are already a multiple of 128 (every 2B4T matrix) have none.
///
/// Immutable after `init`, so it can be shared by threads.
package final class PackedTernaryMatrix: @unchecked Sendable {
    /// ggml type ids accepted by `init(type:...)`.
    package enum SourceType {
        package static let f32: UInt32 = 0
        package static let f16: UInt32 = 1
        package static let bf16: UInt32 = 30
        package static let tq1_0: UInt32 = 34
        package static let tq2_0: UInt32 = 35
        package static let i2_s: UInt32 = 36
        /// Mainline ggml's Q2_0 (64 per block, one f16 d each).
        package static let q2_0: UInt32 = 42
    }

    package static let tileRows = Int(BNK_TILE_ROWS)
    package static let blockColumns = Int(BNK_BLOCK_COLS)
    /// Columns sharing one TQ scale `d`.
    static let scaleGroupColumns = 256
    /// Bound on the row length: keeps every int32 accumulator far from overflow
    /// (|64·2·128| per product · cols/128 blocks · 4 products < 2^31).
    package static let maxColumns = 1 << 20

    package let rows: Int
    package let cols: Int
    /// `cols` rounded up to a whole 128-column block (see `paddedColumns`).
    package var paddedCols: Int { blocksPerRow * Self.blockColumns }
    let blocksPerRow: Int
    let tileCount: Int
    let codes: AlignedMemory
    /// `[tileCount * 4][scaleGroups]` floats (padding rows hold 0).
    let scales: AlignedMemory
    /// 1 when each row has one scale, else cols / 256.
    let scaleGroups: Int

    /// Bytes held by this matrix (codes + scales).
    package var byteCount: Int { codes.byteCount + scales.byteCount }
    /// True when one pass per product suffices (one scale per row).
    package var hasRowScales: Bool { scaleGroups == 1 }

    // MARK: - Construction

    /// Builds the packed matrix from a GGUF tensor's bytes.
    ///
    /// - Parameters:
    ///   - rawTypeID: ggml type id: I2_S (36), TQ1_0 (34), TQ2_0 (35), or
    ///     F32 (0) / F16 (1) / BF16 (30), which are ternarized (see
    ///     `TernaryQuantizer`).
    ///   - rows: output features (ggml ne1); cols: input features (ne0).
    ///   - data: the tensor's bytes (at least the size the type implies).
    ///   - extraScale: a separate per-projection scale multiplying every weight.
    /// - Throws: `.format` for sizes or contents that do not fit the type,
    ///   `.unsupported` for types or shapes the kernels do not handle,
    ///   `.outOfMemory`.
    package convenience init(type rawTypeID: UInt32, rows: Int, cols: Int, data: UnsafeRawBufferPointer,
                            extraScale: Float?) throws(BitNetError) {
        try self.init(type: rawTypeID, rows: rows, cols: cols, data: data, extraScale: extraScale, arena: nil)
    }

    /// As above, with codes and scales carved from `arena` when given (the
    /// model's weights, which decode streams every token).
    /// `requireTernary`: float sources must already hold {−s, 0, +s} (no
    /// absmean ternarization), for architectures that are not ternary by definition.
    init(type rawTypeID: UInt32, rows: Int, cols: Int, data: UnsafeRawBufferPointer,
         extraScale: Float?, requireTernary: Bool = false, arena: HugePageArena?) throws(BitNetError) {
        try Self.validateShape(rows: rows, cols: cols, type: rawTypeID)
        if let extraScale, !extraScale.isFinite {
            throw .format("ternary weight: extra scale \(extraScale) is not finite")
        }
        self.rows = rows
        self.cols = cols
        blocksPerRow = Self.paddedColumns(cols) / Self.blockColumns
        tileCount = (rows + Self.tileRows - 1) / Self.tileRows
        // Cannot overflow: rows, cols < 2^31 and cols ≤ 2^20 were checked.
        codes = try AlignedMemory.allocate(byteCount: tileCount * blocksPerRow * 128, arena: arena,
                                           what: "ternary weight \(rows)x\(cols)")
        // Rows of padding tiles and columns past `cols` get code 1 (w = 0),
        // so they are harmless zeros.
        memset(codes.pointer, 0x55, codes.byteCount)

        var groupScales: [Float]  // [rows][groups] before deduplication
        let groups: Int
        switch rawTypeID {
        case SourceType.i2_s:
            groups = 1
            groupScales = [try Self.packI2S(data, rows: rows, cols: cols, into: codes)]
        case SourceType.tq2_0, SourceType.tq1_0:
            groups = cols / Self.scaleGroupColumns
            groupScales = try Self.packTQ(rawTypeID, data, rows: rows, cols: cols, into: codes)
        case SourceType.q2_0:
            (groups, groupScales) = try Self.packQ2_0(data, rows: rows, cols: cols, packedBlocks: blocksPerRow, into: codes)
        case SourceType.f32, SourceType.f16, SourceType.bf16:
            groups = 1
            groupScales = [try TernaryQuantizer.pack(type: rawTypeID, data, rows: rows, cols: cols, into: codes,
                                                     requireTernary: requireTernary)]
        default:
            throw .unsupported("ternary weight: ggml type \(rawTypeID) is not a ternary or float type")
        }
        for value in groupScales where !value.isFinite {
            throw .format("ternary weight: scale \(value) is not finite")
        }
        let multiplier = extraScale ?? 1
        let paddedRows = tileCount * Self.tileRows
        let layout = Self.scaleLayout(groupScales, rows: rows, groups: groups)
        scaleGroups = layout.groups
        scales = try AlignedMemory.allocate(byteCount: paddedRows * layout.groups * 4, arena: arena,
                                            what: "ternary scales")
        let scalePointer = scales.typed(Float.self)
        for r in 0..<rows {
            for g in 0..<layout.groups {
                scalePointer[r * layout.groups + g] = layout.scale(r, g) * multiplier
            }
        }
    }

    /// Builds a matrix from ternary values (−1, 0, +1) in row-major order and
    /// one scale per row; for tests and synthetic benchmarks.
    package init(ternary values: UnsafeBufferPointer<Int8>, rows: Int, cols: Int,
                rowScales: [Float]) throws(BitNetError) {
        try Self.validateShape(rows: rows, cols: cols, type: SourceType.f32)  // any width
        guard values.count == rows * cols, rowScales.count == rows else {
            throw .invalidArgument("ternary weight: \(values.count) values / \(rowScales.count) scales for \(rows)x\(cols)")
        }
        self.rows = rows
        self.cols = cols
        blocksPerRow = Self.paddedColumns(cols) / Self.blockColumns
        tileCount = (rows + Self.tileRows - 1) / Self.tileRows
        codes = try AlignedMemory(byteCount: tileCount * blocksPerRow * 128, what: "ternary weight")
        memset(codes.pointer, 0x55, codes.byteCount)
        scaleGroups = 1
        scales = try AlignedMemory(byteCount: tileCount * Self.tileRows * 4, what: "ternary scales")
        var rowCodes = [UInt8](repeating: 1, count: blocksPerRow * Self.blockColumns)
        for r in 0..<rows {
            for k in 0..<cols {
                let v = values[r * cols + k]
                guard (-1...1).contains(v) else {
                    throw .invalidArgument("ternary weight: value \(v) at [\(r)][\(k)] is not ternary")
                }
                rowCodes[k] = UInt8(v + 1)
            }
            rowCodes.withUnsafeBufferPointer { packRow(r, codes: $0.baseAddress!) }
            scales.typed(Float.self)[r] = rowScales[r]
        }
    }

    /// An independent copy (benchmarks use many to defeat the caches).
    func copy() throws(BitNetError) -> PackedTernaryMatrix {
        try PackedTernaryMatrix(copying: self)
    }

    private init(copying other: PackedTernaryMatrix) throws(BitNetError) {
        rows = other.rows
        cols = other.cols
        blocksPerRow = other.blocksPerRow
        tileCount = other.tileCount
        scaleGroups = other.scaleGroups
        codes = try AlignedMemory(byteCount: other.codes.byteCount, what: "ternary weight copy")
        scales = try AlignedMemory(byteCount: other.scales.byteCount, what: "ternary scales copy")
        memcpy(codes.pointer, other.codes.pointer, codes.byteCount)
        memcpy(scales.pointer, other.scales.pointer, scales.byteCount)
    }

    static func validateShape(rows: Int, cols: Int, type: UInt32) throws(BitNetError) {
        guard rows > 0, cols > 0, rows < Int(Int32.max) else {
            throw .format("ternary weight: bad shape \(rows)x\(cols)")
        }
        guard cols <= maxColumns else {
            throw .unsupported("ternary weight: row length \(cols) exceeds \(maxColumns)")
        }
        // Only the block formats constrain the width (their own block size);
        // float sources take any width and are padded.
        let multiple = switch type {
        case SourceType.tq1_0, SourceType.tq2_0: 256
        case SourceType.i2_s: 128
        case SourceType.q2_0: 64
        default: 1
        }
        guard cols % multiple == 0 else {
            throw .format("ternary weight: type \(type) stores whole blocks of \(multiple), got a row of \(cols)")
        }
    }

    /// `cols` rounded up to the kernels' 128-column block: the width of a
    /// packed row and of a quantized activation row.
    package static func paddedColumns(_ cols: Int) -> Int {
        (cols + blockColumns - 1) / blockColumns * blockColumns
    }

    /// Where row r's 32-byte block b lives.
    @inline(__always)
    func blockPointer(row r: Int, block b: Int) -> UnsafeMutablePointer<UInt8> {
        codes.typed(UInt8.self) + ((r / Self.tileRows) * blocksPerRow + b) * 128 + (r % Self.tileRows) * 32
    }

    /// Packs one row given as `paddedCols` codes 0...2 (code 1 past `cols`).
    func packRow(_ r: Int, codes rowCodes: UnsafePointer<UInt8>) {
        for b in 0..<blocksPerRow {
            TernaryFormats.packBlock(rowCodes + b * 128, into: blockPointer(row: r, block: b))
        }
    }

    // MARK: - Format readers

    /// I2_S: rows·cols/4 bytes of blocks, then one little-endian f32 scale.
    private static func packI2S(_ data: UnsafeRawBufferPointer, rows: Int, cols: Int,
                                into codes: AlignedMemory) throws(BitNetError) -> Float {
        let packedBytes = rows * cols / 4
        guard data.count >= packedBytes + 4, let base = data.baseAddress else {
            throw .format("I2_S weight \(rows)x\(cols): needs \(packedBytes + 4) bytes, got \(data.count)")
        }
        let source = base.assumingMemoryBound(to: UInt8.self)
        if let byte = TernaryFormats.firstInvalidCodeByte(base, count: packedBytes) {
            throw .format("I2_S weight: invalid code 3 at byte \(byte)")
        }
        let blocksPerRow = cols / 128
        let destination = codes.typed(UInt8.self)
        for r in 0..<rows {
            for b in 0..<blocksPerRow {
                let to = destination + ((r / tileRows) * blocksPerRow + b) * 128 + (r % tileRows) * 32
                memcpy(to, source + (r * blocksPerRow + b) * 32, 32)
            }
        }
        return base.loadUnaligned(fromByteOffset: packedBytes, as: Float.self)
    }

    /// TQ1_0 / TQ2_0: 256-element blocks with an f16 scale each. Returns the
    /// scales as [rows][cols/256].
    private static func packTQ(_ type: UInt32, _ data: UnsafeRawBufferPointer, rows: Int, cols: Int,
                               into codes: AlignedMemory) throws(BitNetError) -> [Float] {
        let blockBytes = type == SourceType.tq2_0 ? 66 : 54
        let groupsPerRow = cols / 256
        let blockCount = rows * groupsPerRow
        let name = type == SourceType.tq2_0 ? "TQ2_0" : "TQ1_0"
        guard data.count >= blockCount * blockBytes, let base = data.baseAddress else {
            throw .format("\(name) weight \(rows)x\(cols): needs \(blockCount * blockBytes) bytes, got \(data.count)")
        }
        var scales = [Float](repeating: 0, count: blockCount)
        var trits = [UInt8](repeating: 0, count: 256)
        let destination = codes.typed(UInt8.self)
        let blocksPerRow = cols / 128
        for r in 0..<rows {
            for g in 0..<groupsPerRow {
                let index = r * groupsPerRow + g
                let block = base + index * blockBytes
                scales[index] = HalfPrecision.float(
                    fromHalf: block.loadUnaligned(fromByteOffset: blockBytes - 2, as: UInt16.self))
                for half in 0..<2 {
                    let to = destination + ((r / tileRows) * blocksPerRow + 2 * g + half) * 128 + (r % tileRows) * 32
                    if type == SourceType.tq2_0 {
                        let qs = block.assumingMemoryBound(to: UInt8.self) + 32 * half
                        for m in 0..<32 {
                            guard !TernaryFormats.hasInvalidCode(qs[m]) else {
                                throw .format("TQ2_0 weight: invalid code 3 in block \(index)")
                            }
                            to[m] = TernaryFormats.reversedFields[Int(qs[m])]
                        }
                    } else {
                        if half == 0 {
                            trits.withUnsafeMutableBufferPointer {
                                TernaryFormats.decodeTQ1Block(block, into: $0.baseAddress!)
                            }
                        }
                        trits.withUnsafeBufferPointer {
                            TernaryFormats.packBlock($0.baseAddress! + 128 * half, into: to)
                        }
                    }
                }
            }
        }
        return scales
    }

    /// Q2_0: 64-element blocks with an f16 d each. The kernels hold one scale
    /// per row or per 256 columns, so the d of the blocks must agree at that
    /// granularity (ternary checkpoints have one scale per tensor or per row).
    /// Returns (groups per row, scales [rows][groups]).
    private static func packQ2_0(_ data: UnsafeRawBufferPointer, rows: Int, cols: Int, packedBlocks: Int,
                                 into codes: AlignedMemory) throws(BitNetError) -> (Int, [Float]) {
        let blocksPerRow = cols / 64
        guard data.count >= rows * blocksPerRow * 18, let base = data.baseAddress else {
            throw .format("Q2_0 weight \(rows)x\(cols): needs \(rows * blocksPerRow * 18) bytes, got \(data.count)")
        }
        let source = base.assumingMemoryBound(to: UInt8.self)
        var blockScales = [Float](repeating: 0, count: blocksPerRow)
        // One scale per row, or per 256 columns when the row's d vary at that step.
        let perGroup = cols % scaleGroupColumns == 0 ? cols / scaleGroupColumns : 1
        var scales = [Float](repeating: 0, count: rows * perGroup)
        var rowCodes = [UInt8](repeating: 1, count: packedBlocks * blockColumns)  // padding keeps code 1 (w = 0)
        let destination = codes.typed(UInt8.self)
        for r in 0..<rows {
            for b in 0..<blocksPerRow {
                let block = source + (r * blocksPerRow + b) * 18
                blockScales[b] = HalfPrecision.float(fromHalf: UnsafeRawPointer(block).loadUnaligned(as: UInt16.self))
                for m in 0..<16 {
                    let byte = block[2 + m]
                    guard !TernaryFormats.hasInvalidCode(byte) else {
                        throw .unsupported("Q2_0 weight: code 3 (+2·d) in block \(r * blocksPerRow + b): not ternary")
                    }
                    for i in 0..<4 { rowCodes[b * 64 + 4 * m + i] = (byte >> UInt8(2 * i)) & 3 }
                }
            }
            let blocksPerGroup = blocksPerRow / perGroup
            for g in 0..<perGroup {
                let first = blockScales[g * blocksPerGroup]
                for b in (g * blocksPerGroup)..<((g + 1) * blocksPerGroup) where blockScales[b] != first {
                    throw .unsupported("Q2_0 weight: block scales differ within \(perGroup == 1 ? "a row" : "256 columns") (row \(r)); only one scale per row or per 256 columns is supported")
                }
                scales[r * perGroup + g] = first
            }
            rowCodes.withUnsafeBufferPointer { row in
                for b in 0..<packedBlocks {
                    let to = destination + ((r / tileRows) * packedBlocks + b) * 128 + (r % tileRows) * 32
                    TernaryFormats.packBlock(row.baseAddress! + b * 128, into: to)
                }
            }
        }
        // scaleLayout collapses rows whose groups share one scale.
        return (perGroup, scales)
    }

    /// Collapses [rows][groups] scales to one per row when every row is uniform.
    private static func scaleLayout(_ values: [Float], rows: Int, groups: Int)
        -> (groups: Int, scale: (Int, Int) -> Float)
    {
        if values.count == 1 { return (1, { _, _ in values[0] }) }
        var uniformRows = true
        rowLoop: for r in 0..<rows {
            for g in 1..<Swift.max(groups, 1) where values[r * groups + g] != values[r * groups] {
                uniformRows = false
                break rowLoop
            }
        }
        if uniformRows { return (1, { r, _ in values[r * groups] }) }
        return (groups, { r, g in values[r * groups + g] })
    }

    // MARK: - Inspection (tests, debugging)

    /// The ternary value T[r][k] in −1...1.
    package func ternaryValue(row r: Int, column k: Int) -> Int8 {
        Int8(TernaryFormats.code(in: blockPointer(row: r, block: k / 128), column: k % 128)) - 1
    }

    /// The scale applied to W[r][k].
    package func scale(row r: Int, column k: Int) -> Float {
        scales.typed(Float.self)[r * scaleGroups + (scaleGroups == 1 ? 0 : k / Self.scaleGroupColumns)]
    }

    /// The dequantized weight T[r][k] · scale.
    package func weight(row r: Int, column k: Int) -> Float {
        Float(ternaryValue(row: r, column: k)) * scale(row: r, column: k)
    }
}
