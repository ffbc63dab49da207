import Testing
@testable import BitNet

/// Counts and generation values are checked in one layer, the core, which the
/// C API calls (its own checks are only about C: NULL pointers, struct sizes,
/// enum raw values, array counts); the C misuse tests hold the codes.
@Suite struct OptionValidationTests {
    static func message(_ body: () throws(BitNetError) -> Void) -> String? {
        do throws(BitNetError) {
            try body()
            return nil
        } catch {
            #expect(error.status == .invalidArgument)
            return error.message
        }
    }

    @Test func contextOptionsRefuseNegativeCounts() throws {
        let model = try Model.load(path: SharedData.golden("m1-b158-relu2-i2_s.gguf"))
        var options = ContextOptions()
        options.threads = -1
        #expect(Self.message { () throws(BitNetError) in _ = try options.resolved(for: model.hparams) }
                == "n_threads is negative (-1)")
        #expect(throws: BitNetError.self) { _ = try Context(model: model, options: options) }
        options.threads = 1
        options.keepOnShift = -1
        #expect(Self.message { () throws(BitNetError) in _ = try options.resolved(for: model.hparams) }
                == "n_keep is negative (-1)")
        #expect(throws: BitNetError.self) { _ = try Context(model: model, options: options) }
        options.keepOnShift = 0
        #expect(Self.message { () throws(BitNetError) in _ = try options.resolved(for: model.hparams) } == nil)
    }

    @Test func streamCapacityHasOneCheck() {
        #expect(Self.message { () throws(BitNetError) in try GenerationStream.check(capacity: 0) } != nil)
        #expect(Self.message { () throws(BitNetError) in try GenerationStream.check(capacity: (1 << 20) + 1) } != nil)
        #expect(Self.message { () throws(BitNetError) in try GenerationStream.check(capacity: 1) } == nil)
        #expect(Self.message { () throws(BitNetError) in try GenerationStream.check(capacity: 1 << 20) } == nil)
    }

    @Test func generationParamsRefuseNegativeMaxTokens() {
        let params = GenerationParams(maxNewTokens: -1)
        #expect(Self.message { () throws(BitNetError) in try params.validate(vocabularySize: 512) }
                == "max_new_tokens must be >= 0 (0 = no limit), got -1")
    }
}
