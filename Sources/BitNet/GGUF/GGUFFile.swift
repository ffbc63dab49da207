/// One tensor's description from a GGUF header.
package struct GGUFTensorInfo: Sendable, Hashable {
    package let name: String
    package let type: GGMLType
    /// ggml dimensions, ne0 (row length) first; 1 to 4 entries, each >= 0.
    package let dims: [Int]
    /// Offset of the data relative to the start of the data section.
    package let offset: Int
    /// Bytes of data (for I2_S including its 32-byte scale trailer).
    package let byteCount: Int

    package var elementCount: Int { dims.reduce(1, *) }  // cannot overflow: checked when parsed
}

/// A parsed GGUF (v2 or v3) file: metadata, tensor table and the raw bytes.
///
/// Everything is validated at init with checked arithmetic — counts, string
/// and array lengths, tensor shapes, byte sizes, alignment, overlaps — so
/// after init every `data(of:)` is known to lie inside the file. Tensor data is
/// never copied: it stays in the mapping (or heap buffer), which lives as
/// long as this object.
package final class GGUFFile: @unchecked Sendable {
    // @unchecked: all stored properties are immutable and the bytes are read-only.

    package static let defaultAlignment = 32
    /// ggml's GGML_MAX_DIMS.
    package static let maxDimensions = 4
    /// Arrays of arrays nest at most this deep (real files use none).
    static let maxArrayDepth = 4

    package let version: UInt32
    package let metadata: [String: GGUFValue]
    /// Metadata keys in file order (for display).
    package let metadataKeys: [String]
    /// Tensor infos in file order.
    package let tensors: [GGUFTensorInfo]
    package let alignment: Int
    /// Absolute offset of the data section.
    package let dataOffset: Int
    package var fileSize: Int { storage.bytes.count }
    package var isMemoryMapped: Bool { storage.isMapped }

    private let storage: MappedFile
    private let tensorIndex: [String: Int]
    /// Where each key's value (its type id) starts, to re-read raw string bytes.
    private let valueOffsets: [String: Int]

    /// Opens and validates the file at `path` (mmap unless `useMmap` is false).
    ///
    /// With `metadataOnly` parsing stops after the metadata: `tensors` is empty
    /// and tensor infos are neither read nor validated (a vocab-only load must
    /// not fail because of a tensor type this build does not know).
    package convenience init(path: String, useMmap: Bool = true, lock: Bool = false, metadataOnly: Bool = false,
                            progress: ((Double) -> Bool)? = nil) throws(BitNetError) {
        try self.init(storage: MappedFile(path: path, useMmap: useMmap, lock: lock, progress: progress),
                      metadataOnly: metadataOnly)
    }

    /// Parses a file held in memory (the bytes are copied).
    package convenience init(bytes: [UInt8], metadataOnly: Bool = false) throws(BitNetError) {
        try self.init(storage: try MappedFile(copying: bytes), metadataOnly: metadataOnly)
    }

    private init(storage: MappedFile, metadataOnly: Bool) throws(BitNetError) {
        self.storage = storage
        var reader = ByteReader(storage.bytes)

        // Header.
        guard storage.bytes.count > 0 else { throw .format("file is empty (0 bytes), not a GGUF file") }
        try reader.require(4) { "the magic number" }
        let magic = try reader.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {  // "GGUF" little-endian
            throw .format("not a GGUF file: magic is \(GGUFFile.describeMagic(magic)), expected \"GGUF\"")
        }
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                throw .unsupported("big-endian GGUF files are not supported (version field \(version.byteSwapped), byte-swapped)")
            }
            throw .unsupported("GGUF version \(version) is not supported (only 2 and 3)")
        }
        self.version = version
        let tensorCount = try reader.read(UInt64.self, "tensor count")
        let kvCount = try reader.read(UInt64.self, "metadata key/value count")
        // A tensor info takes at least 24 bytes and a key/value at least 13:
        // bound both counts by the bytes left before reserving anything.
        let left = UInt64(reader.remaining)
        guard tensorCount <= left / 24 else {
            throw .format("header claims \(tensorCount) tensors, but only \(left) bytes follow the header")
        }
        guard kvCount <= left / 13, tensorCount * 24 + kvCount * 13 <= left else {
            throw .format("header claims \(kvCount) metadata entries and \(tensorCount) tensors, but only \(left) bytes follow the header")
        }

        // Metadata.
        var metadata = [String: GGUFValue](minimumCapacity: Int(kvCount))
        var keys = [String]()
        keys.reserveCapacity(Int(kvCount))
        var valueOffsets = [String: Int](minimumCapacity: Int(kvCount))
        for index in 0..<Int(kvCount) {
            let key = try reader.readString("key of metadata entry \(index)")
            guard metadata[key] == nil else { throw .format("duplicate metadata key '\(key)'") }
            valueOffsets[key] = reader.offset
            let typeID = try reader.read(UInt32.self, "value type of '\(key)'")
            let value = try GGUFFile.readValue(typeID: typeID, from: &reader, key: key, depth: 0)
            metadata[key] = value
            keys.append(key)
        }
        self.metadata = metadata
        self.metadataKeys = keys
        self.valueOffsets = valueOffsets

        // Alignment of the data section and of every tensor offset.
        var alignment = GGUFFile.defaultAlignment
        if let value = metadata["general.alignment"] {
            guard let a = value.asInt else {
                throw .format("general.alignment has type \(value.typeDescription), expected uint32")
            }
            guard a > 0, a & (a - 1) == 0, a <= 1 << 20 else {
                throw .format("general.alignment is \(a), expected a power of two between 1 and 1048576")
            }
            alignment = a
        }
        self.alignment = alignment

        // Tensor infos.
        let parsedTensors = metadataOnly ? 0 : Int(tensorCount)
        var infos = [GGUFTensorInfo]()
        infos.reserveCapacity(parsedTensors)
        var index = [String: Int](minimumCapacity: parsedTensors)
        for i in 0..<parsedTensors {
            let info = try GGUFFile.readTensorInfo(from: &reader, position: i, alignment: alignment)
            guard index[info.name] == nil else { throw .format("duplicate tensor name '\(info.name)'") }
            index[info.name] = infos.count
            infos.append(info)
        }
        self.tensors = infos
        self.tensorIndex = index

        // Data section: starts at the next multiple of the alignment.
        let infoEnd = reader.offset
        let padding = (alignment - infoEnd % alignment) % alignment
        let dataOffset = infoEnd + padding
        self.dataOffset = dataOffset
        try GGUFFile.validateDataLayout(infos, dataOffset: dataOffset, fileSize: storage.bytes.count)
    }

    // MARK: - Access

    package func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The bytes of `info`'s data inside the file. Empty for an info that does
    /// not belong to this file. Valid as long as this object lives.
    package func data(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        let start = dataOffset + info.offset
        guard info.offset >= 0, info.byteCount >= 0, start <= fileSize, info.byteCount <= fileSize - start else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(rebasing: storage.bytes[start..<(start + info.byteCount)])
    }

    /// The whole file (header included).
    package var rawBytes: UnsafeRawBufferPointer { storage.bytes }

    /// The exact bytes of every string in the string array at `key` (no UTF-8
    /// repair), or nil when the key is absent or not an array of strings.
    package func rawStringArray(forKey key: String) -> [[UInt8]]? {
        guard case .array(.string(let decoded))? = metadata[key], let start = valueOffsets[key] else { return nil }
        // The value was fully validated at init, so these reads cannot fail.
        var reader = ByteReader(storage.bytes, offset: start + 4 + 4 + 8)
        var result = [[UInt8]]()
        result.reserveCapacity(decoded.count)
        for _ in 0..<decoded.count {
            guard let raw = try? reader.readStringBytes("") else { return nil }
            result.append(Array(raw))
        }
        return result
    }

    // MARK: - Parsing

    private static func describeMagic(_ magic: UInt32) -> String {
        let bytes = withUnsafeBytes(of: magic.littleEndian) { Array($0) }
        let printable = bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        return printable ? "\"\(String(decoding: bytes, as: UTF8.self))\" (\(hex))" : hex
    }

    private static func readValue(typeID: UInt32, from reader: inout ByteReader, key: String,
                                  depth: Int) throws(BitNetError) -> GGUFValue {
        guard let type = GGUFValueType(rawValue: typeID) else {
            throw .format("metadata '\(key)': unknown value type \(typeID) at offset \(reader.offset - 4)")
        }
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self, "value of '\(key)'"))
        case .int8: return .int8(try reader.read(Int8.self, "value of '\(key)'"))
        case .uint16: return .uint16(try reader.read(UInt16.self, "value of '\(key)'"))
        case .int16: return .int16(try reader.read(Int16.self, "value of '\(key)'"))
        case .uint32: return .uint32(try reader.read(UInt32.self, "value of '\(key)'"))
        case .int32: return .int32(try reader.read(Int32.self, "value of '\(key)'"))
        case .uint64: return .uint64(try reader.read(UInt64.self, "value of '\(key)'"))
        case .int64: return .int64(try reader.read(Int64.self, "value of '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try reader.read(UInt32.self, "value of '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try reader.read(UInt64.self, "value of '\(key)'")))
        case .bool: return .bool(try reader.read(UInt8.self, "value of '\(key)'") != 0)
        case .string: return .string(try reader.readString("value of '\(key)'"))
        case .array: return .array(try readArray(from: &reader, key: key, depth: depth + 1))
        }
    }

    private static func readArray(from reader: inout ByteReader, key: String, depth: Int) throws(BitNetError) -> GGUFArray {
        guard depth <= maxArrayDepth else {
            throw .format("metadata '\(key)': arrays nested deeper than \(maxArrayDepth) levels")
        }
        let typeID = try reader.read(UInt32.self, "array element type of '\(key)'")
        guard let type = GGUFValueType(rawValue: typeID) else {
            throw .format("metadata '\(key)': unknown array element type \(typeID) at offset \(reader.offset - 4)")
        }
        let rawCount = try reader.read(UInt64.self, "array length of '\(key)'")
        guard rawCount <= UInt64(reader.remaining / type.minimumEncodedSize) else {
            throw .format("metadata '\(key)': array of \(rawCount) \(type.name) elements cannot fit in the \(reader.remaining) bytes left in the file")
        }
        let count = Int(rawCount)
        let what = "array '\(key)'"
        switch type {
        case .uint8: return .uint8(try reader.readArray(UInt8.self, count: count, what))
        case .int8: return .int8(try reader.readArray(Int8.self, count: count, what))
        case .uint16: return .uint16(try reader.readArray(UInt16.self, count: count, what))
        case .int16: return .int16(try reader.readArray(Int16.self, count: count, what))
        case .uint32: return .uint32(try reader.readArray(UInt32.self, count: count, what))
        case .int32: return .int32(try reader.readArray(Int32.self, count: count, what))
        case .uint64: return .uint64(try reader.readArray(UInt64.self, count: count, what))
        case .int64: return .int64(try reader.readArray(Int64.self, count: count, what))
        case .float32: return .float32(try reader.readArray(UInt32.self, count: count, what).map(Float.init(bitPattern:)))
        case .float64: return .float64(try reader.readArray(UInt64.self, count: count, what).map(Double.init(bitPattern:)))
        case .bool: return .bool(try reader.readArray(UInt8.self, count: count, what).map { $0 != 0 })
        case .string:
            var strings = [String]()
            strings.reserveCapacity(count)
            for i in 0..<count {
                strings.append(try reader.readString("element \(i) of array '\(key)'"))
            }
            return .string(strings)
        case .array:
            var arrays = [GGUFArray]()
            arrays.reserveCapacity(count)
            for _ in 0..<count {
                arrays.append(try readArray(from: &reader, key: key, depth: depth + 1))
            }
            return .array(arrays)
        }
    }

    private static func readTensorInfo(from reader: inout ByteReader, position: Int,
                                       alignment: Int) throws(BitNetError) -> GGUFTensorInfo {
        let name = try reader.readString("name of tensor \(position)")
        let dimCount = try reader.read(UInt32.self, "dimension count of tensor '\(name)'")
        guard dimCount <= UInt32(maxDimensions) else {
            throw .format("tensor \(name): \(dimCount) dimensions, at most \(maxDimensions) are allowed")
        }
        var dims = [Int]()
        dims.reserveCapacity(Int(dimCount))
        for d in 0..<Int(dimCount) {
            let raw = try reader.read(UInt64.self, "dimension \(d) of tensor '\(name)'")
            guard raw <= UInt64(Int64.max) else {
                throw .format("tensor \(name): dimension \(d) is \(raw), larger than the maximum \(Int64.max)")
            }
            dims.append(Int(raw))
        }
        if dims.isEmpty { dims = [1] }  // a 0-d tensor is a scalar
        var elements = 1
        for d in dims {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .format("tensor \(name): element count of shape \(dims) overflows") }
            elements = product
        }
        let typeID = try reader.read(UInt32.self, "type of tensor '\(name)'")
        guard let type = GGMLType(id: typeID) else {
            throw .unsupported("tensor \(name): unknown ggml type id \(typeID)")
        }
        let rawOffset = try reader.read(UInt64.self, "data offset of tensor '\(name)'")
        guard rawOffset <= UInt64(Int64.max) else {
            throw .format("tensor \(name): data offset \(rawOffset) is past any possible end of file")
        }
        let offset = Int(rawOffset)
        guard offset % alignment == 0 else {
            throw .format("tensor \(name): data offset \(offset) is not a multiple of the alignment \(alignment)")
        }
        let byteCount = try type.tensorByteSize(dims: dims, tensorName: name)
        return GGUFTensorInfo(name: name, type: type, dims: dims, offset: offset, byteCount: byteCount)
    }

    /// Type 42 is mainline ggml's Q2_0 (18 bytes per 64 values); PrismML's fork
    /// reuses the id for 34-byte blocks of 128, which surfaces as a size error.
    private static func sizeHint(_ info: GGUFTensorInfo) -> String {
        if info.type == .i2_s {
            return " (tensor \(info.name) is I2_S, whose size includes a 32-byte float32 scale tail after the 2-bit codes; is the scale missing?)"
        }
        guard info.type == .q2_0 else { return "" }
        return " (tensor \(info.name) is type 42, read as mainline ggml's Q2_0 with 64 values per 18 bytes; PrismML's fork uses id 42 for 128-value blocks, which is not supported)"
    }

    /// Every tensor inside the file, none overlapping another.
    private static func validateDataLayout(_ infos: [GGUFTensorInfo], dataOffset: Int,
                                           fileSize: Int) throws(BitNetError) {
        guard !infos.isEmpty else { return }
        guard dataOffset <= fileSize else {
            throw .format("truncated file: the tensor data section starts at offset \(dataOffset), but the file has \(fileSize) bytes")
        }
        let available = fileSize - dataOffset
        for info in infos {
            let (end, overflow) = info.offset.addingReportingOverflow(info.byteCount)
            guard !overflow, end <= available else {
                throw .format("tensor \(info.name): data [\(info.offset), \(info.offset) + \(info.byteCount)) of the data section extends past the end of the file (the section has \(available) bytes)\(Self.sizeHint(info))")
            }
        }
        let ordered = infos.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where next.offset < previous.offset + previous.byteCount {
            throw .format("tensors \(previous.name) and \(next.name) overlap: [\(previous.offset), \(previous.offset + previous.byteCount)) and [\(next.offset), \(next.offset + next.byteCount))\(Self.sizeHint(previous))")
        }
    }
}
