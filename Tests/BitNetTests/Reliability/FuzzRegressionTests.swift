import Testing
@testable import BitNet

/// Bugs the fuzz harnesses (Fuzz/) found, one test each. Most matter under
/// `make sanitize` (AddressSanitizer), where the original bug fails loudly.
@Suite struct FuzzRegressionTests {
    /// fuzz_state, seed writing: `Hash64.combine(String)` hashed through a
    /// pointer escaped from `withUnsafeBytes` — a heap use after free that
    /// could make a model's fingerprint (and so state loading) flaky.
    @Test func stringHashReadsLiveBytes() {
        let text = String(repeating: "bitnet-b1.58 ", count: 40)
        var viaString = Hash64()
        viaString.combine(text)
        // Churn the heap so that freed memory is reused before it is read.
        var junk: [[UInt8]] = []
        for i in 0..<64 { junk.append([UInt8](repeating: UInt8(truncatingIfNeeded: i), count: text.utf8.count)) }
        var viaBytes = Hash64()
        viaBytes.combine(text.utf8.count)
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { viaBytes.combine(bytes: $0) }
        #expect(viaString.value == viaBytes.value)
        #expect(junk.count == 64)
    }

    /// fuzz_gguf_parse, campaign of 2026-12-02: a file whose block_count is
    /// ~2^32 made the loader reserve room for that many layers (154 GB): the
    /// allocation failure aborts the host. Now it fails with a format error
    /// at the first missing layer tensor.
    @Test func hugeBlockCountFailsCleanly() throws {
        let path = SharedData.root + "/../../Fuzz/regressions/gguf_parse/finding-6-huge-block-count"
        var options = ModelLoadOptions()
        options.validateOnly = true
        #expect(throws: BitNetError.self) { try Model.load(path: path, options: options) }
    }
}
