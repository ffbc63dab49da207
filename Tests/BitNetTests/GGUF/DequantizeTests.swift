import Testing
@testable import BitNet

@Suite struct DequantizeTests {
    static let fixturePath: String = {
        var path = #filePath  // <repo>/Tests/BitNetTests/GGUF/DequantizeTests.swift
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fixtures/dequant.gguf"
    }()

    static func view(_ file: GGUFFile, _ name: String) throws -> TensorView {
        let info = try #require(file.tensor(named: name))
        return TensorView(name: name, type: info.type, shape: info.dims, data: file.data(of: info))
    }

    /// Against the PyPI `gguf` package (Tests/tools/make_dequant_fixture.py).
    @Test(arguments: ["Q8_0", "Q4_K", "Q6_K", "TQ1_0", "TQ2_0", "F16", "BF16"])
    func matchesGGUFPythonPackage(_ name: String) throws {
        let file = try GGUFFile(path: Self.fixturePath)
        let quantized = try Self.view(file, name)
        let expected = try Self.view(file, name + ".expected")
        #expect(quantized.type.name == name)
        #expect(quantized.rowCount == 2 && expected.shape == quantized.shape)
        for row in 0..<quantized.rowCount {
            let got = try Dequantize.row(quantized, row)
            let want = try Dequantize.row(expected, row)
            #expect(got.count == quantized.rowLength)
            let scale = want.map(abs).max() ?? 1
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-6 * scale, "\(name) row \(row): max difference \(worst)")
            #expect(want.contains { $0 != 0 })
        }
    }

    /// The four m1 golden files hold the same weights in I2_S, TQ1_0, TQ2_0 and
    /// F16: decoding each must agree (this checks the layouts against real files,
    /// not against our own writer).
    @Test func ternaryLayoutsAgreeWithF16OnGoldenFiles() throws {
        let reference = try Model.load(path: SharedData.golden("m1-bitnet-relu2-f16.gguf"))
        for name in ["m1-b158-relu2-i2_s.gguf", "m1-bitnet-relu2-tq1_0.gguf", "m1-bitnet-relu2-tq2_0.gguf"] {
            let model = try Model.load(path: SharedData.golden(name))
            for (layer, refLayer) in zip(model.layers, reference.layers) {
                for projection in Projection.allCases {
                    let w = layer.weight(projection), r = refLayer.weight(projection)
                    var worst: Float = 0, largest: Float = 0
                    for row in 0..<w.rowCount {
                        let a = try Dequantize.row(w, row), b = try Dequantize.row(r, row)
                        for (x, y) in zip(a, b) {
                            worst = max(worst, abs(x - y))
                            largest = max(largest, abs(y))
                        }
                    }
                    #expect(largest > 0)
                    #expect(worst <= 1e-6 * largest, "\(name) \(w.name): max difference \(worst) of \(largest)")
                }
            }
        }
    }

    @Test func f32RowsAndArgumentChecks() throws {
        var w = GGUFWriter()
        w.addTensor("m", dims: [3, 2], floats: [1, 2, 3, 4, 5, 6])
        let file = try GGUFFile(bytes: w.bytes())
        let m = try Self.view(file, "m")
        #expect(try Dequantize.row(m, 1) == [4, 5, 6])
        #expect(caught { try Dequantize.row(m, 2) }?.status == .invalidArgument)
        #expect(caught { try Dequantize.row(m, -1) }?.status == .invalidArgument)
        var small = [Float](repeating: 0, count: 2)
        let error = small.withUnsafeMutableBufferPointer { buffer in caught { try Dequantize.row(m, 0, into: buffer) } }
        #expect(error?.status == .invalidArgument)
        let q5 = try #require(GGMLType(id: 6))
        let bytes = [UInt8](repeating: 0, count: 22)
        var block = [Float](repeating: 0, count: 32)
        let unsupported = bytes.withUnsafeBytes { raw in
            caught { try Dequantize.values(type: q5, from: raw, count: 32, into: &block) }
        }
        #expect(unsupported?.status == .unsupported)
    }
}
