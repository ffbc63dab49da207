import Testing
@testable import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bad-input corpus: every malformed file must fail with a specific status
/// and a message naming what is wrong — never crash, never read outside the file.
@Suite struct GGUFMalformedTests {
    /// Header with explicit counts, for hand-assembled files.
    static func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64) -> GGUFEncoder {
        var e = GGUFEncoder()
        e.append(UInt32(0x4655_4747))
        e.append(version)
        e.append(tensors)
        e.append(kvs)
        return e
    }

    /// A tensor info entry.
    static func appendTensorInfo(_ e: inout GGUFEncoder, _ name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        e.appendString(name)
        e.append(UInt32(dims.count))
        for d in dims { e.append(d) }
        e.append(type)
        e.append(offset)
    }

    static func expectFailure(_ bytes: [UInt8], _ status: Status, _ fragment: String,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let error = caught { try GGUFFile(bytes: bytes) }
        #expect(error?.status == status, "\(error?.message ?? "parsed")", sourceLocation: sourceLocation)
        #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "parsed")", sourceLocation: sourceLocation)
    }

    /// A small valid file whose last tensor ends exactly at the end of the file
    /// (no trailing padding), so every strict prefix is invalid.
    static func smallValidFile() -> [UInt8] {
        var w = GGUFWriter()
        w.add("general.architecture", .string("test"))
        w.add("tokens", .array(.string(["alpha", "beta", "γ"])))
        w.add("ids", .array(.int32([1, 2, 3])))
        w.add("nested", .array(.array([.uint8([1]), .uint8([2, 3])])))
        w.add("pi", .float64(3.14))
        w.addTensor("w", type: .f32, dims: [8, 2], data: [UInt8](repeating: 1, count: 64))
        w.addTensor("q", type: .q8_0, dims: [32], data: [UInt8](repeating: 2, count: 34))
        w.addTensor("s", type: .i2_s, dims: [128], data: [UInt8](repeating: 3, count: 64))
        return w.bytes()
    }

    // MARK: - Truncation

    @Test func everyStrictPrefixFails() throws {
        let bytes = Self.smallValidFile()
        _ = try GGUFFile(bytes: bytes)
        for length in 0..<bytes.count {
            let error = caught { try GGUFFile(bytes: Array(bytes.prefix(length))) }
            #expect(error?.status == .format, "prefix \(length): \(error?.message ?? "parsed")")
            #expect(error?.message.isEmpty == false)
        }
    }

    @Test func truncationMessagesNameTheSection() {
        let bytes = Self.smallValidFile()
        Self.expectFailure([], .format, "file is empty")
        Self.expectFailure(Array(bytes.prefix(3)), .format, "truncated file: the magic number at offset 0 needs 4 bytes")
        Self.expectFailure(Array(bytes.prefix(6)), .format, "truncated file: version at offset 4")
        Self.expectFailure(Array(bytes.prefix(12)), .format, "truncated file: tensor count at offset 8")
        Self.expectFailure(Array(bytes.prefix(20)), .format, "truncated file: metadata key/value count at offset 16")
        // Counts that no longer fit in what is left are rejected before parsing entries.
        Self.expectFailure(Array(bytes.prefix(40)), .format, "header claims 3 tensors, but only 16 bytes follow")
        // Cut inside a string of an array, and inside a number array: name the element.
        var e = Self.header(tensors: 0, kvs: 1)
        e.appendEntry("tokens", .array(.string(["alpha", "beta"])))
        Self.expectFailure(Array(e.bytes.dropLast(2)), .format, "truncated file: element 1 of array 'tokens' at offset 67 claims 4 bytes, but only 2 remain")
        e = Self.header(tensors: 0, kvs: 1)
        e.appendEntry("ids", .array(.int32([1, 2, 3, 4, 5, 6])))
        Self.expectFailure(Array(e.bytes.dropLast(3)), .format, "metadata 'ids': array of 6 int32 elements cannot fit in the 21 bytes left in the file")
        // Cut in the tensor data: name the tensor.
        Self.expectFailure(Array(bytes.prefix(bytes.count - 10)), .format, "tensor s: data [")
        Self.expectFailure(Array(bytes.prefix(bytes.count - 10)), .format, "extends past the end of the file")
    }

    // MARK: - Header

    @Test func headerProblems() {
        Self.expectFailure(Array("GGML".utf8) + [UInt8](repeating: 0, count: 20), .format, "not a GGUF file: magic is \"GGML\"")
        Self.expectFailure([0, 1, 2, 3, 4, 5, 6, 7], .format, "not a GGUF file: magic is 00 01 02 03")
        var e = Self.header(version: 1, tensors: 0, kvs: 0)
        Self.expectFailure(e.bytes, .unsupported, "GGUF version 1 is not supported")
        e = Self.header(version: 4, tensors: 0, kvs: 0)
        Self.expectFailure(e.bytes, .unsupported, "GGUF version 4 is not supported")
        e = Self.header(version: UInt32(3).byteSwapped, tensors: 0, kvs: 0)
        Self.expectFailure(e.bytes, .unsupported, "big-endian GGUF files are not supported")
        e = Self.header(tensors: .max, kvs: 0)
        Self.expectFailure(e.bytes, .format, "header claims 18446744073709551615 tensors")
        e = Self.header(tensors: 0, kvs: .max)
        Self.expectFailure(e.bytes, .format, "header claims 18446744073709551615 metadata entries")
        e = Self.header(tensors: 1 << 40, kvs: 1 << 40)
        Self.expectFailure(e.bytes + [UInt8](repeating: 0, count: 100), .format, "tensors, but only 100 bytes follow")
        // An empty metadata/tensor file is valid.
        #expect((try? GGUFFile(bytes: Self.header(tensors: 0, kvs: 0).bytes))?.metadata.isEmpty == true)
    }

    // MARK: - Metadata

    @Test func metadataProblems() {
        var e = Self.header(tensors: 0, kvs: 1)
        e.append(UInt64.max)  // key length
        e.bytes += Array("key".utf8) + [UInt8](repeating: 0, count: 20)
        Self.expectFailure(e.bytes, .format, "key of metadata entry 0 at offset 24 claims 18446744073709551615 bytes")

        e = Self.header(tensors: 0, kvs: 1)
        e.appendString("k")
        e.append(GGUFValueType.string.rawValue)
        e.append(UInt64.max - 3)
        e.bytes += Array("abc".utf8)
        Self.expectFailure(e.bytes, .format, "value of 'k'")

        for elementType in [GGUFValueType.uint8, .uint64, .string, .array] {
            e = Self.header(tensors: 0, kvs: 1)
            e.appendString("arr")
            e.append(GGUFValueType.array.rawValue)
            e.append(elementType.rawValue)
            e.append(UInt64.max)
            e.bytes += [1, 2, 3]
            Self.expectFailure(e.bytes, .format, "metadata 'arr': array of 18446744073709551615 \(elementType.name) elements cannot fit")
        }

        e = Self.header(tensors: 0, kvs: 1)
        e.appendString("arr")
        e.append(GGUFValueType.array.rawValue)
        e.append(GGUFValueType.uint32.rawValue)
        e.append(UInt64(3))
        e.append(UInt32(1))
        e.bytes += [0, 0]  // element 2 cut short... and element 3 missing
        Self.expectFailure(e.bytes, .format, "metadata 'arr': array of 3 uint32 elements cannot fit")

        e = Self.header(tensors: 0, kvs: 1)
        e.appendString("k")
        e.append(UInt32(13))
        e.append(UInt64(0))
        Self.expectFailure(e.bytes, .format, "metadata 'k': unknown value type 13 at offset")

        e = Self.header(tensors: 0, kvs: 1)
        e.appendString("k")
        e.append(GGUFValueType.array.rawValue)
        e.append(UInt32(99))
        e.append(UInt64(0))
        Self.expectFailure(e.bytes, .format, "metadata 'k': unknown array element type 99")

        var nested = GGUFArray.int8([1])
        for _ in 0..<6 { nested = .array([nested]) }
        e = Self.header(tensors: 0, kvs: 1)
        e.appendEntry("deep", .array(nested))
        Self.expectFailure(e.bytes, .format, "metadata 'deep': arrays nested deeper than 4 levels")

        e = Self.header(tensors: 0, kvs: 2)
        e.appendEntry("a", .uint8(1))
        e.appendEntry("a", .string("again"))
        Self.expectFailure(e.bytes, .format, "duplicate metadata key 'a'")

        for (value, fragment) in [(GGUFValue.string("32"), "general.alignment has type string, expected uint32"),
                                  (.uint32(0), "general.alignment is 0"), (.uint32(48), "general.alignment is 48"),
                                  (.int32(-32), "general.alignment is -32")] {
            e = Self.header(tensors: 0, kvs: 1)
            e.appendEntry("general.alignment", value)
            Self.expectFailure(e.bytes, .format, fragment)
        }
    }

    // MARK: - Tensor infos and data layout

    /// One-tensor file: info fields as given, `dataBytes` bytes of data after the aligned header.
    static func oneTensor(dims: [UInt64], type: UInt32, offset: UInt64 = 0, dataBytes: Int) -> [UInt8] {
        var e = header(tensors: 1, kvs: 0)
        appendTensorInfo(&e, "blk.3.ffn_up.weight", dims: dims, type: type, offset: offset)
        e.pad(toMultipleOf: 32)
        return e.bytes + [UInt8](repeating: 0, count: dataBytes)
    }

    @Test func tensorInfoProblems() {
        Self.expectFailure(Self.oneTensor(dims: [300, 4], type: 36, dataBytes: 1000), .format,
                           "tensor blk.3.ffn_up.weight: type 36 needs K % 128 == 0, got 300 (I2_S rows are whole blocks)")
        Self.expectFailure(Self.oneTensor(dims: [100], type: 35, dataBytes: 1000), .format,
                           "type 35 needs K % 256 == 0, got 100 (TQ2_0")
        Self.expectFailure(Self.oneTensor(dims: [16], type: 99, dataBytes: 64), .unsupported,
                           "tensor blk.3.ffn_up.weight: unknown ggml type id 99")
        Self.expectFailure(Self.oneTensor(dims: [1, 1, 1, 1, 1], type: 0, dataBytes: 64), .format,
                           "tensor blk.3.ffn_up.weight: 5 dimensions, at most 4 are allowed")
        Self.expectFailure(Self.oneTensor(dims: [UInt64.max], type: 0, dataBytes: 64), .format,
                           "dimension 0 is 18446744073709551615")
        Self.expectFailure(Self.oneTensor(dims: [1 << 32, 1 << 32], type: 0, dataBytes: 64), .format,
                           "tensor blk.3.ffn_up.weight: element count of shape [4294967296, 4294967296] overflows")
        Self.expectFailure(Self.oneTensor(dims: [1 << 31, 1 << 31], type: 0, dataBytes: 64), .format,
                           "byte size of shape [2147483648, 2147483648] overflows")
        Self.expectFailure(Self.oneTensor(dims: [16], type: 0, offset: 16, dataBytes: 128), .format,
                           "data offset 16 is not a multiple of the alignment 32")
        Self.expectFailure(Self.oneTensor(dims: [16], type: 0, offset: .max, dataBytes: 128), .format,
                           "data offset 18446744073709551615 is past any possible end of file")
        Self.expectFailure(Self.oneTensor(dims: [16], type: 0, offset: 1 << 62, dataBytes: 128), .format,
                           "extends past the end of the file (the section has 128 bytes)")
        Self.expectFailure(Self.oneTensor(dims: [16], type: 0, offset: 96, dataBytes: 128), .format,
                           "tensor blk.3.ffn_up.weight: data [96, 96 + 64)")
        Self.expectFailure(Self.oneTensor(dims: [16], type: 0, dataBytes: 0), .format,
                           "extends past the end of the file (the section has 0 bytes)")
        // Info section ends, but the padded data section start is past the end.
        var e = Self.header(tensors: 1, kvs: 0)
        Self.appendTensorInfo(&e, "t", dims: [1], type: 0, offset: 0)
        Self.expectFailure(e.bytes, .format, "truncated file: the tensor data section starts at offset 64")
        // Zero-sized tensors and scalars (0 dims) are fine.
        #expect((try? GGUFFile(bytes: Self.oneTensor(dims: [0, 5], type: 0, dataBytes: 0)))?.tensors.first?.byteCount == 0)
        #expect((try? GGUFFile(bytes: Self.oneTensor(dims: [], type: 0, dataBytes: 4)))?.tensors.first?.dims == [1])
    }

    @Test func overlapsAndDuplicates() {
        var w = GGUFWriter()
        w.addRawTensor(name: "a", typeID: 0, dims: [16], data: [UInt8](repeating: 0, count: 64))
        w.addRawTensor(name: "b", typeID: 0, dims: [16], data: [UInt8](repeating: 0, count: 64), offset: 32)
        Self.expectFailure(w.bytes(), .format, "tensors a and b overlap: [0, 64) and [32, 96)")

        w = GGUFWriter()
        w.addRawTensor(name: "a", typeID: 0, dims: [8], data: [UInt8](repeating: 0, count: 32))
        w.addRawTensor(name: "a", typeID: 0, dims: [8], data: [UInt8](repeating: 0, count: 32))
        Self.expectFailure(w.bytes(), .format, "duplicate tensor name 'a'")

        // Same offset for a zero-sized tensor is not an overlap.
        w = GGUFWriter()
        w.addRawTensor(name: "a", typeID: 0, dims: [8], data: [UInt8](repeating: 0, count: 32))
        w.addRawTensor(name: "empty", typeID: 0, dims: [0], data: [], offset: 0)
        #expect((try? GGUFFile(bytes: w.bytes()))?.tensors.count == 2)
    }

    // MARK: - Files on disk

    @Test func fileSystemProblems() throws {
        func expectPath(_ path: String, _ status: Status, _ fragment: String, mmap: Bool = true,
                        sourceLocation: SourceLocation = #_sourceLocation) {
            let error = caught { try GGUFFile(path: path, useMmap: mmap) }
            #expect(error?.status == status, "\(error?.message ?? "opened")", sourceLocation: sourceLocation)
            #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "opened")", sourceLocation: sourceLocation)
        }
        for mmap in [true, false] {
            expectPath("/nonexistent/model.gguf", .io, "cannot open '/nonexistent/model.gguf': No such file or directory", mmap: mmap)
            expectPath("/tmp", .io, "'/tmp' is a directory", mmap: mmap)
            expectPath("/dev/null", .io, "'/dev/null' is not a regular file", mmap: mmap)
        }
        let base = "/tmp/bitnet-h1-malformed-\(getpid())"
        defer {
            unlink(base + "-empty.gguf")
            unlink(base + "-cut.gguf")
        }
        let fd = open(base + "-empty.gguf", O_CREAT | O_TRUNC | O_WRONLY, 0o644)
        close(fd)
        expectPath(base + "-empty.gguf", .format, "is empty (0 bytes)")
        expectPath(base + "-empty.gguf", .format, "is empty (0 bytes)", mmap: false)

        // A file truncated before it is opened is caught by the size checks.
        let bytes = Self.smallValidFile()
        try writeBytes(Array(bytes.prefix(bytes.count - 40)), to: base + "-cut.gguf")
        expectPath(base + "-cut.gguf", .format, "extends past the end of the file")
        expectPath(base + "-cut.gguf", .format, "extends past the end of the file", mmap: false)
    }

    // MARK: - Random corruption

    @Test func randomCorruptionNeverCrashes() throws {
        let valid = TinyModel(nVocab: 16, nEmbd: 128, nLayer: 1, nHead: 2, nHeadKV: 1, nFF: 128).bytes()
        _ = try Model(file: GGUFFile(bytes: valid))
        let headerEnd = try GGUFFile(bytes: valid).dataOffset
        var rng = SplitMix64(seed: 2024)
        var parsed = 0, rejected = 0
        for _ in 0..<1500 {
            var bytes = valid
            let mutations = Int(rng.next() % 4) + 1
            for _ in 0..<mutations {
                // Mostly hit the header, where the structure lives.
                let position = Int(rng.next() % UInt64(rng.next() % 4 == 0 ? bytes.count : min(headerEnd, bytes.count)))
                switch rng.next() % 4 {
                case 0: bytes[position] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                case 1:
                    let value = [UInt64.max, 0, 1 << 40, UInt64(Int64.max), rng.next()][Int(rng.next() % 5)]
                    withUnsafeBytes(of: value.littleEndian) { raw in
                        for (i, b) in raw.enumerated() where position + i < bytes.count { bytes[position + i] = b }
                    }
                case 2: bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
                default: bytes[position] = UInt8(truncatingIfNeeded: rng.next())
                }
                if bytes.isEmpty { break }
            }
            do {
                let file = try GGUFFile(bytes: bytes)
                for info in file.tensors {
                    let data = file.data(of: info)
                    #expect(data.count == info.byteCount)
                }
                _ = try? Model(file: file)
                parsed += 1
            } catch {
                #expect(!error.message.isEmpty)
                rejected += 1
            }
        }
        #expect(rejected > 500)
        print("random corruption: \(parsed) parsed, \(rejected) rejected")
    }
}

func writeBytes(_ bytes: [UInt8], to path: String) throws(BitNetError) {
    let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0o644)
    guard fd >= 0 else { throw .io("cannot create \(path)") }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw .io("short write to \(path)") }
}
