#if canImport(Glibc)
import Glibc
#endif

/// Test-only access to `/work/shared/golden`: whole-file reads and a minimal
/// GGUF tensor locator (just enough to find tensor bytes; the real, validating
/// reader lives in Sources/BitNet/GGUF).
enum GoldenData {
    static let directory = "/work/shared/golden"

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        fseek(file, 0, SEEK_END)
        let size = ftell(file)
        fseek(file, 0, SEEK_SET)
        guard size > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: size)
        let read = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, file) }
        return read == size ? bytes : nil
    }

    struct Tensor {
        var name: String
        var type: UInt32
        var dims: [Int]
        var offset: Int  // absolute offset in the file
        var elementCount: Int { dims.reduce(1, *) }
    }

    /// Parses a GGUF v2/v3 file's tensor table (trusted test input).
    static func tensors(in bytes: [UInt8]) -> [String: Tensor] {
        var position = 0
        func u32() -> UInt32 {
            defer { position += 4 }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: UInt32.self) }
        }
        func u64() -> UInt64 {
            defer { position += 8 }
            return bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: UInt64.self) }
        }
        func string() -> String {
            let length = Int(u64())
            defer { position += length }
            return String(decoding: bytes[position..<position + length], as: UTF8.self)
        }
        var alignment = 32
        func skipValue(_ type: UInt32, key: String) {
            switch type {
            case 0, 1, 7: position += 1
            case 2, 3: position += 2
            case 4, 5, 6:
                if key == "general.alignment" { alignment = Int(u32()) } else { position += 4 }
            case 10, 11, 12: position += 8
            case 8: _ = string()
            case 9:
                let elementType = u32()
                let count = Int(u64())
                for _ in 0..<count { skipValue(elementType, key: "") }
            default: fatalError("test GGUF reader: unknown value type \(type)")
            }
        }
        precondition(u32() == 0x4655_4747, "not a GGUF file")
        _ = u32()
        let tensorCount = Int(u64())
        let keyCount = Int(u64())
        for _ in 0..<keyCount {
            let key = string()
            skipValue(u32(), key: key)
        }
        var list: [Tensor] = []
        for _ in 0..<tensorCount {
            let name = string()
            let dimCount = Int(u32())
            let dims = (0..<dimCount).map { _ in Int(u64()) }
            let type = u32()
            let offset = Int(u64())
            list.append(Tensor(name: name, type: type, dims: dims, offset: offset))
        }
        let dataStart = (position + alignment - 1) / alignment * alignment
        var result: [String: Tensor] = [:]
        for var tensor in list {
            tensor.offset += dataStart
            result[tensor.name] = tensor
        }
        return result
    }

    /// m1.bitlinear.bin arrays by name (from the JSON's offsets, which are
    /// extracted with a tiny scan instead of a JSON parser).
    struct BitLinearVectors {
        let bin: [UInt8]
        let arrays: [String: (offset: Int, count: Int)]

        init?() {
            guard let bin = GoldenData.readFile("\(GoldenData.directory)/m1.bitlinear.bin"),
                  let json = GoldenData.readFile("\(GoldenData.directory)/m1.bitlinear.json") else { return nil }
            self.bin = bin
            let text = String(decoding: json, as: UTF8.self)
            var arrays: [String: (Int, Int)] = [:]
            // Each array object: "name": "...", ..., "offset": N, "nbytes": M
            for chunk in text.split(separator: "{").dropFirst() {
                func field(_ key: String) -> Substring? {
                    guard let range = chunk.firstRange(of: "\"\(key)\":") else { return nil }
                    let rest = chunk[range.upperBound...].drop(while: { $0 == " " || $0 == "\n" })
                    return rest.prefix(while: { $0 != "," && $0 != "\n" && $0 != "}" })
                }
                guard let name = field("name"), let offset = field("offset").flatMap({ Int($0) }),
                      let count = field("nbytes").flatMap({ Int($0) }) else { continue }
                arrays[String(name.dropFirst().dropLast())] = (offset, count)
            }
            self.arrays = arrays
        }

        func floats(_ name: String) -> [Float] {
            guard let (offset, count) = arrays[name] else { return [] }
            return bin.withUnsafeBytes { raw in
                (0..<count / 4).map { raw.loadUnaligned(fromByteOffset: offset + 4 * $0, as: Float.self) }
            }
        }

        func int8s(_ name: String) -> [Int8] {
            guard let (offset, count) = arrays[name] else { return [] }
            return bin[offset..<offset + count].map { Int8(bitPattern: $0) }
        }
    }
}

/// Deterministic random numbers for kernel tests (SplitMix64).
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
    mutating func float(_ range: ClosedRange<Float>) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * Float(next() >> 40) / Float(1 << 24)
    }
}
