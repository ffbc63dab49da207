/// A read-only view of one tensor's raw bytes inside a loaded model file.
///
/// `shape` is in ggml order: `shape[0]` (ne0) is the row length — the input
/// features of a linear layer — and `shape[1]` (ne1) the number of rows
/// (output features). The bytes belong to the `Model` (its mapping): a view is
/// valid only while the model that produced it is alive.
package struct TensorView: @unchecked Sendable {
    // @unchecked: `data` points into an immutable mapping owned by the Model.
    package let name: String
    package let type: GGMLType
    package let shape: [Int]
    package let data: UnsafeRawBufferPointer

    package init(name: String, type: GGMLType, shape: [Int], data: UnsafeRawBufferPointer) {
        self.name = name
        self.type = type
        self.shape = shape
        self.data = data
    }

    /// The placeholder used by vocab-only models, which carry no weights.
    package static let empty = TensorView(name: "", type: .f32, shape: [0], data: UnsafeRawBufferPointer(start: nil, count: 0))

    /// ne0: elements per row.
    package var rowLength: Int { shape.first ?? 0 }
    /// ne1 * ne2 * ...: number of rows.
    package var rowCount: Int { shape.dropFirst().reduce(1, *) }
    package var elementCount: Int { shape.reduce(1, *) }

    /// Bytes of one row (whole blocks; for I2_S the packed codes only).
    package var rowByteCount: Int { type.rowByteSize(rowLength) ?? 0 }

    /// The bytes of row `index` (for I2_S: its packed 2-bit codes; rows are
    /// contiguous because the row length is a multiple of the 128-element block).
    package func row(_ index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < rowCount, "row \(index) out of range 0..<\(rowCount) in \(name)")
        let size = rowByteCount
        return UnsafeRawBufferPointer(rebasing: data[(index * size)..<((index + 1) * size)])
    }

    /// I2_S only: the per-tensor f32 scale stored right after the packed codes.
    package var i2sScale: Float? {
        guard type == .i2_s else { return nil }
        let codes = rowByteCount * rowCount
        guard codes + 4 <= data.count else { return nil }
        return Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: codes, as: UInt32.self)))
    }

    /// A 1-element F32 tensor's value (the `.scale` tensors).
    package var scalarValue: Float? {
        guard type == .f32, elementCount == 1, data.count >= 4 else { return nil }
        return Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(as: UInt32.self)))
    }
}
