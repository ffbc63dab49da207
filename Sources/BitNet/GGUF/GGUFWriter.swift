#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Little-endian GGUF primitives appended to a byte array. Public so tests can
/// hand-assemble malformed files field by field.
package struct GGUFEncoder {
    package var bytes: [UInt8] = []

    package init() {}

    package mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A u64 length followed by the raw bytes (no NUL).
    package mutating func appendString(_ raw: some Collection<UInt8>) {
        append(UInt64(raw.count))
        bytes.append(contentsOf: raw)
    }

    package mutating func appendString(_ text: String) { appendString(Array(text.utf8)) }

    /// A value without its type id.
    package mutating func appendPayload(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .float64(let v): append(v.bitPattern)
        case .bool(let v): append(UInt8(v ? 1 : 0))
        case .string(let s): appendString(s)
        case .array(let a): appendArray(a)
        }
    }

    /// Element type id, u64 count, then the elements.
    package mutating func appendArray(_ array: GGUFArray) {
        append(array.elementType.rawValue)
        append(UInt64(array.count))
        switch array {
        case .uint8(let a): bytes.append(contentsOf: a)
        case .int8(let a): a.forEach { append($0) }
        case .uint16(let a): a.forEach { append($0) }
        case .int16(let a): a.forEach { append($0) }
        case .uint32(let a): a.forEach { append($0) }
        case .int32(let a): a.forEach { append($0) }
        case .uint64(let a): a.forEach { append($0) }
        case .int64(let a): a.forEach { append($0) }
        case .float32(let a): a.forEach { append($0.bitPattern) }
        case .float64(let a): a.forEach { append($0.bitPattern) }
        case .bool(let a): a.forEach { append(UInt8($0 ? 1 : 0)) }
        case .string(let a): a.forEach { appendString($0) }
        case .array(let a): a.forEach { appendArray($0) }
        }
    }

    /// A metadata entry: key, value type id, value.
    package mutating func appendEntry(_ key: String, _ value: GGUFValue) {
        appendString(key)
        append(value.type.rawValue)
        appendPayload(value)
    }

    package mutating func pad(toMultipleOf alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }
}

/// Builds GGUF v3 (or v2) files: metadata in insertion order, tensors laid out
/// one after another at aligned offsets.
///
/// The writer checks nothing on purpose — duplicate keys, unknown type ids,
/// shapes that disagree with the data, explicit bad offsets — so that tests can
/// produce malformed files with it. Use `GGUFFile` to validate the result.
package struct GGUFWriter {
    package enum TensorData {
        case bytes([UInt8])
        /// Produced at write time into a zeroed buffer of `byteCount` bytes
        /// (keeps multi-gigabyte files out of memory until written).
        case generated(byteCount: Int, fill: (UnsafeMutableRawBufferPointer) -> Void)

        var byteCount: Int {
            switch self {
            case .bytes(let b): b.count
            case .generated(let n, _): n
            }
        }
    }

    package struct Tensor {
        package var name: String
        package var typeID: UInt32
        package var dims: [UInt64]
        package var data: TensorData
        /// Offset written in the tensor info; nil = where the data really goes.
        package var offsetOverride: UInt64?
    }

    package var version: UInt32 = 3
    /// Layout alignment. A value other than 32 is also written as
    /// `general.alignment` unless that key was added explicitly.
    package var alignment: Int = GGUFFile.defaultAlignment
    package private(set) var metadata: [(key: String, value: GGUFValue)] = []
    package var tensors: [Tensor] = []

    package init() {}

    package mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value))
    }

    package mutating func addTensor(_ name: String, type: GGMLType, dims: [Int], data: [UInt8]) {
        tensors.append(Tensor(name: name, typeID: type.id, dims: dims.map { UInt64(max($0, 0)) },
                              data: .bytes(data), offsetOverride: nil))
    }

    package mutating func addTensor(_ name: String, type: GGMLType, dims: [Int], byteCount: Int,
                                   fill: @escaping (UnsafeMutableRawBufferPointer) -> Void) {
        tensors.append(Tensor(name: name, typeID: type.id, dims: dims.map { UInt64(max($0, 0)) },
                              data: .generated(byteCount: byteCount, fill: fill), offsetOverride: nil))
    }

    /// Float values as F32 data.
    package mutating func addTensor(_ name: String, dims: [Int], floats: [Float]) {
        var encoder = GGUFEncoder()
        for f in floats { encoder.append(f.bitPattern) }
        addTensor(name, type: .f32, dims: dims, data: encoder.bytes)
    }

    /// Any fields at all, for malformed files.
    package mutating func addRawTensor(name: String, typeID: UInt32, dims: [UInt64], data: [UInt8],
                                      offset: UInt64? = nil) {
        tensors.append(Tensor(name: name, typeID: typeID, dims: dims, data: .bytes(data), offsetOverride: offset))
    }

    /// Real data offsets (relative to the data section) of every tensor.
    package var dataOffsets: [Int] {
        var offsets = [Int]()
        var position = 0
        for tensor in tensors {
            offsets.append(position)
            position += tensor.data.byteCount
            position += (alignment - position % alignment) % alignment
        }
        return offsets
    }

    /// Header, metadata and tensor infos, padded to the data section.
    package func headerBytes() -> [UInt8] {
        var encoder = GGUFEncoder()
        encoder.append(UInt32(0x4655_4747))
        encoder.append(version)
        encoder.append(UInt64(tensors.count))
        let writesAlignment = alignment != GGUFFile.defaultAlignment && !metadata.contains { $0.key == "general.alignment" }
        encoder.append(UInt64(metadata.count + (writesAlignment ? 1 : 0)))
        if writesAlignment { encoder.appendEntry("general.alignment", .uint32(UInt32(alignment))) }
        for (key, value) in metadata { encoder.appendEntry(key, value) }
        for (tensor, offset) in zip(tensors, dataOffsets) {
            encoder.appendString(tensor.name)
            encoder.append(UInt32(tensor.dims.count))
            for d in tensor.dims { encoder.append(d) }
            encoder.append(tensor.typeID)
            encoder.append(tensor.offsetOverride ?? UInt64(offset))
        }
        if !tensors.isEmpty { encoder.pad(toMultipleOf: alignment) }
        return encoder.bytes
    }

    /// The whole file in memory.
    package func bytes() -> [UInt8] {
        var result = headerBytes()
        for tensor in tensors {
            switch tensor.data {
            case .bytes(let b): result.append(contentsOf: b)
            case .generated(let n, let fill):
                let start = result.count
                result.append(contentsOf: repeatElement(0, count: n))
                result.withUnsafeMutableBytes { fill(UnsafeMutableRawBufferPointer(rebasing: $0[start..<(start + n)])) }
            }
            while result.count % alignment != 0 { result.append(0) }
        }
        return result
    }

    /// Streams the file to `path`, generating one tensor at a time.
    package func write(to path: String) throws(BitNetError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io("cannot create '\(path)': \(errnoText())") }
        defer { close(fd) }
        try writeAll(fd, headerBytes(), path: path)
        for tensor in tensors {
            var buffer: [UInt8]
            switch tensor.data {
            case .bytes(let b): buffer = b
            case .generated(let n, let fill):
                buffer = [UInt8](repeating: 0, count: n)
                buffer.withUnsafeMutableBytes { fill($0) }
            }
            buffer.append(contentsOf: repeatElement(0, count: (alignment - buffer.count % alignment) % alignment))
            try writeAll(fd, buffer, path: path)
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(BitNetError) {
        let written = bytes.withUnsafeBytes { raw in raw.baseAddress.map { writeFully(fd, $0, raw.count) } ?? true }
        guard written else { throw .io("cannot write '\(path)': \(errnoText())") }
    }
}
