/// A ggml tensor storage type: its id in GGUF files and its block geometry.
///
/// Every type stores rows as whole blocks of `blockSize` elements in
/// `bytesPerBlock` bytes, so a row's length must be a multiple of the block
/// size. I2_S (bitnet.cpp's id 36) also carries `trailingBytes` after all rows:
/// one f32 per-tensor scale padded to 32 bytes.
package struct GGMLType: Hashable, Sendable, CustomStringConvertible {
    package let id: UInt32
    package let name: String
    package let blockSize: Int
    package let bytesPerBlock: Int
    package let trailingBytes: Int

    package var description: String { name }

    package static let f32 = GGMLType(id: 0, name: "F32", blockSize: 1, bytesPerBlock: 4)
    package static let f16 = GGMLType(id: 1, name: "F16", blockSize: 1, bytesPerBlock: 2)
    package static let q4_0 = GGMLType(id: 2, name: "Q4_0", blockSize: 32, bytesPerBlock: 18)
    package static let q4_1 = GGMLType(id: 3, name: "Q4_1", blockSize: 32, bytesPerBlock: 20)
    package static let q5_0 = GGMLType(id: 6, name: "Q5_0", blockSize: 32, bytesPerBlock: 22)
    package static let q5_1 = GGMLType(id: 7, name: "Q5_1", blockSize: 32, bytesPerBlock: 24)
    package static let q8_0 = GGMLType(id: 8, name: "Q8_0", blockSize: 32, bytesPerBlock: 34)
    package static let q8_1 = GGMLType(id: 9, name: "Q8_1", blockSize: 32, bytesPerBlock: 36)
    package static let q2_K = GGMLType(id: 10, name: "Q2_K", blockSize: 256, bytesPerBlock: 84)
    package static let q3_K = GGMLType(id: 11, name: "Q3_K", blockSize: 256, bytesPerBlock: 110)
    package static let q4_K = GGMLType(id: 12, name: "Q4_K", blockSize: 256, bytesPerBlock: 144)
    package static let q5_K = GGMLType(id: 13, name: "Q5_K", blockSize: 256, bytesPerBlock: 176)
    package static let q6_K = GGMLType(id: 14, name: "Q6_K", blockSize: 256, bytesPerBlock: 210)
    package static let q8_K = GGMLType(id: 15, name: "Q8_K", blockSize: 256, bytesPerBlock: 292)
    package static let i8 = GGMLType(id: 24, name: "I8", blockSize: 1, bytesPerBlock: 1)
    package static let i16 = GGMLType(id: 25, name: "I16", blockSize: 1, bytesPerBlock: 2)
    package static let i32 = GGMLType(id: 26, name: "I32", blockSize: 1, bytesPerBlock: 4)
    package static let i64 = GGMLType(id: 27, name: "I64", blockSize: 1, bytesPerBlock: 8)
    package static let f64 = GGMLType(id: 28, name: "F64", blockSize: 1, bytesPerBlock: 8)
    package static let bf16 = GGMLType(id: 30, name: "BF16", blockSize: 1, bytesPerBlock: 2)
    package static let tq1_0 = GGMLType(id: 34, name: "TQ1_0", blockSize: 256, bytesPerBlock: 54)
    package static let tq2_0 = GGMLType(id: 35, name: "TQ2_0", blockSize: 256, bytesPerBlock: 66)
    /// Mainline ggml's Q2_0 (type 42): 64 elements in 18 bytes, f16 d then
    /// 2-bit codes q (element j at byte j/4, bits 2·(j%4)); value (q − 1)·d,
    /// so codes 0...2 are ternary and 3 (+2·d) is not. PrismML's fork writes
    /// the same id with 128-element blocks (34 bytes): such files do not
    /// match this size and are refused (DESIGN notes in ArchitectureFamily.swift).
    package static let q2_0 = GGMLType(id: 42, name: "Q2_0", blockSize: 64, bytesPerBlock: 18)
    /// bitnet.cpp's I2_S: 2-bit codes, 128 elements in 32 bytes, then the scale.
    package static let i2_s = GGMLType(id: 36, name: "I2_S", blockSize: 128, bytesPerBlock: 32, trailingBytes: 32)

    /// Every type this build can size (and therefore list); only some can be computed with.
    package static let known: [GGMLType] = [
        .f32, .f16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K,
        .q8_K, .i8, .i16, .i32, .i64, .f64, .bf16, .tq1_0, .tq2_0, .i2_s, .q2_0,
    ]

    private static let byID: [UInt32: GGMLType] = Dictionary(uniqueKeysWithValues: known.map { ($0.id, $0) })

    /// The type with this id, or nil when this build does not know it.
    package init?(id: UInt32) {
        guard let type = GGMLType.byID[id] else { return nil }
        self = type
    }

    private init(id: UInt32, name: String, blockSize: Int, bytesPerBlock: Int, trailingBytes: Int = 0) {
        self.id = id
        self.name = name
        self.blockSize = blockSize
        self.bytesPerBlock = bytesPerBlock
        self.trailingBytes = trailingBytes
    }

    /// Bytes of one row of `length` elements; nil unless the length is a
    /// non-negative multiple of the block size and the size fits in `Int`.
    package func rowByteSize(_ length: Int) -> Int? {
        guard length >= 0, length % blockSize == 0 else { return nil }
        let (bytes, overflow) = (length / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }

    /// Bytes of a whole tensor with dimensions `dims` (ne0 first), with checked
    /// arithmetic. Throws a message naming `tensorName` when the row length is
    /// not a multiple of the block size or the size overflows.
    package func tensorByteSize(dims: [Int], tensorName: String) throws(BitNetError) -> Int {
        let rowLength = dims.first ?? 1
        guard rowLength % blockSize == 0 else {
            throw .format("tensor \(tensorName): type \(id) needs K % \(blockSize) == 0, got \(rowLength) (\(name) rows are whole blocks)")
        }
        guard let rowBytes = rowByteSize(rowLength) else {
            throw .format("tensor \(tensorName): row of \(rowLength) elements of \(name) overflows")
        }
        var total = rowBytes
        for d in dims.dropFirst() {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw .format("tensor \(tensorName): byte size of shape \(dims) overflows")
            }
            total = product
        }
        let (withTrailer, overflow) = total.addingReportingOverflow(trailingBytes)
        guard !overflow else { throw .format("tensor \(tensorName): byte size of shape \(dims) overflows") }
        return withTrailer
    }
}
