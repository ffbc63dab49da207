import BitNet
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Test access to the golden BitLinear vectors (`m1.bitlinear.bin/.json`)
/// and whole-file reads; GGUF files are opened with the real `GGUFFile`.
enum GoldenData {
    static var directory: String { SharedData.root + "/golden" }

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

/// Deterministic random numbers for kernel tests.
typealias TestRandom = SplitMix64

extension SplitMix64 {
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
    mutating func float(_ range: ClosedRange<Float>) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * Float(next() >> 40) / Float(1 << 24)
    }
}
