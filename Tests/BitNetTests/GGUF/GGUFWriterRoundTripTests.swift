import Testing
@testable import BitNet

@Suite struct GGUFWriterRoundTripTests {
    static let everyValue: [(String, GGUFValue)] = [
        ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)), ("i16", .int16(-30000)),
        ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)),
        ("u64", .uint64(.max)), ("i64", .int64(.min)),
        ("f32", .float32(-1.5e-7)), ("f64", .float64(3.141592653589793)),
        ("t", .bool(true)), ("f", .bool(false)),
        ("s", .string("héllo\nwörld ✓")), ("empty", .string("")),
        ("a.u8", .array(.uint8([0, 1, 255]))), ("a.i8", .array(.int8([-128, 127]))),
        ("a.u16", .array(.uint16([1, 65535]))), ("a.i16", .array(.int16([-32768, 5]))),
        ("a.u32", .array(.uint32([7, .max]))), ("a.i32", .array(.int32([-1, .max]))),
        ("a.u64", .array(.uint64([0, .max]))), ("a.i64", .array(.int64([.min, 42]))),
        ("a.f32", .array(.float32([0.5, -0, .infinity]))), ("a.f64", .array(.float64([1e300, -2]))),
        ("a.bool", .array(.bool([true, false, true]))), ("a.str", .array(.string(["a", "", "ü\u{0}x"]))),
        ("a.empty", .array(.int32([]))),
        ("a.nested", .array(.array([.int32([1, 2]), .string(["x"]), .array([.bool([true])])]))),
    ]

    @Test(arguments: [UInt32(2), 3])
    func everyValueTypeRoundTrips(_ version: UInt32) throws {
        var w = GGUFWriter()
        w.version = version
        for (key, value) in Self.everyValue { w.add(key, value) }
        let file = try GGUFFile(bytes: w.bytes())
        #expect(file.version == version)
        #expect(file.metadataKeys == Self.everyValue.map(\.0))
        for (key, value) in Self.everyValue {
            #expect(file.metadata[key] == value, "\(key)")
        }
    }

    @Test func tensorsRoundTripWithAlignment() throws {
        for alignment in [1, 8, 32, 64, 4096] {
            var w = GGUFWriter()
            w.alignment = alignment
            w.add("general.architecture", .string("test"))
            let a: [UInt8] = (0..<36).map { UInt8($0) }
            let b: [UInt8] = (0..<(256 * 3 / 4 + 32)).map { UInt8(truncatingIfNeeded: $0 * 7) }
            w.addTensor("a", type: .q8_0, dims: [32, 1], data: Array(a.prefix(34)))
            w.addTensor("b", type: .i2_s, dims: [128, 6], data: Array(b.prefix(128 * 6 / 4 + 32)))
            w.addTensor("scalar", dims: [1], floats: [2.5])
            let file = try GGUFFile(bytes: w.bytes())
            #expect(file.alignment == alignment)
            #expect(file.dataOffset % alignment == 0)
            #expect(file.tensors.map(\.name) == ["a", "b", "scalar"])
            let ta = try #require(file.tensor(named: "a"))
            #expect(ta.type == .q8_0 && ta.dims == [32, 1] && ta.byteCount == 34)
            #expect(Array(file.data(of: ta)) == Array(a.prefix(34)))
            let tb = try #require(file.tensor(named: "b"))
            #expect(tb.byteCount == 128 * 6 / 4 + 32 && tb.offset % alignment == 0)
            #expect(Array(file.data(of: tb)) == Array(b.prefix(128 * 6 / 4 + 32)))
            let scalar = try #require(file.tensor(named: "scalar"))
            #expect(TensorView(name: "scalar", type: scalar.type, shape: scalar.dims, data: file.data(of: scalar)).scalarValue == 2.5)
        }
    }

    @Test func writtenFileEqualsInMemoryBytes() throws {
        var w = TinyModel().writer()
        w.addTensor("generated", type: .f32, dims: [3], byteCount: 12) { buffer in
            for i in 0..<3 { buffer.storeBytes(of: Float(i).bitPattern, toByteOffset: i * 4, as: UInt32.self) }
        }
        let path = "/tmp/bitnet-h1-roundtrip-\(getpid()).gguf"
        defer { unlink(path) }
        try w.write(to: path)
        let fromDisk = try GGUFFile(path: path)
        let inMemory = try GGUFFile(bytes: w.bytes())
        #expect(Array(fromDisk.rawBytes) == Array(inMemory.rawBytes))
        let generated = try #require(fromDisk.tensor(named: "generated"))
        #expect(Array(fromDisk.data(of: generated)) == [0, 0, 0, 0, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
    }

    @Test func invalidUTF8IsReplacedButRawBytesStayExact() throws {
        let bad: [UInt8] = [0x61, 0xFF, 0x62]  // "a", invalid byte, "b"
        var encoder = GGUFEncoder()
        encoder.append(UInt32(0x4655_4747))
        encoder.append(UInt32(3))
        encoder.append(UInt64(0))
        encoder.append(UInt64(2))
        encoder.appendString("tokenizer.ggml.tokens")
        encoder.append(GGUFValueType.array.rawValue)
        encoder.append(GGUFValueType.string.rawValue)
        encoder.append(UInt64(2))
        encoder.appendString(bad)
        encoder.appendString([0xE2, 0x9C])  // a truncated 3-byte sequence
        encoder.appendString("name")
        encoder.append(GGUFValueType.string.rawValue)
        encoder.appendString(bad)
        let file = try GGUFFile(bytes: encoder.bytes)
        #expect(file.metadata["tokenizer.ggml.tokens"]?.asStrings == ["a\u{FFFD}b", "\u{FFFD}"])
        #expect(file.metadata["name"]?.asString == "a\u{FFFD}b")
        #expect(file.rawStringArray(forKey: "tokenizer.ggml.tokens") == [bad, [0xE2, 0x9C]])
        #expect(file.rawStringArray(forKey: "name") == nil)
        #expect(file.rawStringArray(forKey: "missing") == nil)
    }

    @Test func valueAccessors() {
        #expect(GGUFValue.uint64(.max).asInt == nil)
        #expect(GGUFValue.int8(-3).asInt == -3)
        #expect(GGUFValue.float32(1.5).asInt == nil)
        #expect(GGUFValue.uint32(7).asDouble == 7)
        #expect(GGUFValue.string("x").asDouble == nil)
        #expect(GGUFValue.bool(true).asBool == true && GGUFValue.uint8(1).asBool == nil)
        #expect(GGUFValue.array(.uint64([1, .max])).asInts == nil)
        #expect(GGUFValue.array(.int16([1, -2])).asInts == [1, -2])
        #expect(GGUFValue.array(.float64([0.5])).asFloats == [0.5])
        #expect(GGUFValue.array(.int32([3])).asFloats == [3])
        #expect(GGUFValue.array(.string(["a"])).asInts == nil)
        #expect(GGUFValue.array(.int32([1, 2, 3, 4])).formatted(maxArrayElements: 2) == "[1, 2, ... (4 elements)]")
        #expect(GGUFValue.array(.string(["a\n", "\"b\""])).formatted() == "[\"a\\n\", \"\\\"b\\\"\"]")
        #expect(GGUFValue.float32(1e-5).formatted() == "1e-05")
        #expect(GGUFValue.array(.bool([true])).typeDescription == "array[bool]")
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
