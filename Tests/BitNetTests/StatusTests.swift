import Testing
@testable import BitNet

@Suite struct StatusTests {
    @Test func everyKnownCodeHasItsOwnText() {
        let codes: [Int32] = Array(-12...2)
        let texts = Set(codes.map { Status(rawValue: $0).description })
        #expect(texts.count == codes.count)
        #expect(!texts.contains("unknown status"))
        #expect(Status(rawValue: 42).description == "unknown status")
    }

    @Test func kernelSelectionIsSupported() {
        #expect(KernelSet.selected.isSupportedByCPU)
        #expect(KernelSet.buildDescription.contains("using \(KernelSet.selected.rawValue)"))
    }
}
