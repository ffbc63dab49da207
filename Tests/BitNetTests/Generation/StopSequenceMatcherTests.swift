import Testing
@testable import BitNet

@Suite struct StopSequenceMatcherTests {
    /// Feeds `chunks` and returns everything emitted plus the match (flushing if none).
    static func run(_ stops: [String], _ chunks: [String]) -> (emitted: String, match: Int?, pieces: [String]) {
        var matcher = StopSequenceMatcher(stops: stops)
        var bytes: [UInt8] = []
        var pieces: [String] = []
        for chunk in chunks {
            let output = matcher.feed(chunk)
            bytes += output.text
            pieces.append(String(decoding: output.text, as: UTF8.self))
            if let stop = output.matchedStop { return (String(decoding: bytes, as: UTF8.self), stop, pieces) }
        }
        let rest = matcher.flush()
        bytes += rest
        pieces.append(String(decoding: rest, as: UTF8.self))
        return (String(decoding: bytes, as: UTF8.self), nil, pieces)
    }

    /// The definition, on the whole text at once: the stop that completes
    /// first (smallest end), the longest among those ending together.
    static func reference(_ stops: [String], _ text: String) -> (emitted: String, match: Int?) {
        let bytes = Array(text.utf8)
        for end in 0...bytes.count {
            var best: (start: Int, index: Int)?
            for (index, stop) in stops.enumerated() where !stop.isEmpty {
                let stopBytes = Array(stop.utf8)
                guard stopBytes.count <= end else { continue }
                let start = end - stopBytes.count
                if Array(bytes[start..<end]) == stopBytes, best.map({ start < $0.start }) ?? true {
                    best = (start, index)
                }
            }
            if let best { return (String(decoding: bytes[..<best.start], as: UTF8.self), best.index) }
        }
        return (text, nil)
    }

    @Test func stopInsideOneChunk() {
        let result = Self.run(["</s>"], ["Hello</s>world"])
        #expect(result.emitted == "Hello")
        #expect(result.match == 0)
    }

    @Test func stopSplitOverManyTokensIsHeldBackThenDropped() {
        var matcher = StopSequenceMatcher(stops: ["<|end|>"])
        #expect(matcher.feed("Hi <").text == Array("Hi ".utf8))
        #expect(matcher.heldBackCount == 1)
        #expect(matcher.feed("|e").text.isEmpty)
        #expect(matcher.feed("nd").text.isEmpty)
        let last = matcher.feed("|>tail")
        #expect(last.matchedStop == 0)
        #expect(last.text.isEmpty)
        #expect(matcher.isFinished)
        #expect(matcher.feed("more").text.isEmpty)  // finished: ignores further input
    }

    @Test func falseStartIsReleased() {
        var matcher = StopSequenceMatcher(stops: ["STOP"])
        #expect(matcher.feed("ST").text.isEmpty)
        #expect(matcher.feed("Op").text == Array("STOp".utf8))
        #expect(matcher.feed("ST").text.isEmpty)
        #expect(matcher.flush() == Array("ST".utf8))
    }

    @Test func overlappingPrefixesAndSelfOverlap() {
        // "aab" inside "aaab": the first 'a' is released once it cannot start a match.
        #expect(Self.run(["aab"], ["a", "a", "a", "b", "c"]) == ("a", 0, ["", "", "a", ""]))
        // Two stops sharing a prefix: the one completing first wins.
        #expect(Self.run(["abcd", "abc"], ["x", "ab", "c", "d"]).match == 1)
        #expect(Self.run(["abcd", "bc"], ["xa", "b", "c"]) == ("xa", 1, ["x", "", "a"]))
        // Same end: the longer (earlier-starting) stop wins.
        #expect(Self.run(["b", "ab"], ["a", "b"]).match == 1)
    }

    @Test func emptyStopsAreIgnoredButIndicesKept() {
        #expect(Self.run(["", "end"], ["the ", "end"]) == ("the ", 1, ["the ", ""]))
        var none = StopSequenceMatcher(stops: ["", ""])
        #expect(none.feed("abc").text == Array("abc".utf8))
        #expect(none.heldBackCount == 0)
    }

    @Test func multibyteTextStaysValidUTF8() {
        // The stop starts with a multi-byte character; held text starts on a lead byte.
        var matcher = StopSequenceMatcher(stops: ["→停"])
        var emitted: [UInt8] = []
        for chunk in ["a→", "b→", "停x"] {
            let output = matcher.feed(chunk)
            #expect(String(validating: output.text, as: UTF8.self) != nil)
            emitted += output.text
            if output.matchedStop != nil { break }
        }
        #expect(String(decoding: emitted, as: UTF8.self) == "a→b")
    }

    @Test func resetStartsOver() {
        var matcher = StopSequenceMatcher(stops: ["xy"])
        _ = matcher.feed("ax")
        #expect(matcher.feed("y").matchedStop == 0)
        matcher.reset()
        #expect(!matcher.isFinished)
        #expect(matcher.feed("x").text.isEmpty)
        #expect(matcher.flush() == Array("x".utf8))
    }

    /// Any chunking of any text gives the same result as the whole-text definition.
    @Test func randomChunkingsMatchTheDefinition() {
        var random = RandomGenerator(seed: 2024)
        let alphabet = ["a", "b", "c", "é", "\n"]
        let stopSets: [[String]] = [["ab"], ["aba", "ba"], ["abc", "bc", "c\n"], ["aaa", "", "aab"], ["é\n", "bé"]]
        for _ in 0..<2000 {
            let stops = stopSets[Int(random.next() % UInt64(stopSets.count))]
            let length = Int(random.next() % 14)
            let text = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
            // Cut between characters (tokens end on code point boundaries after the UTF-8 holdback).
            var chunks: [String] = []
            var current = ""
            for character in text {
                current.append(character)
                if random.next() % 3 == 0 {
                    chunks.append(current)
                    current = ""
                }
            }
            chunks.append(current)
            let streamed = Self.run(stops, chunks)
            let expected = Self.reference(stops, text)
            #expect(streamed.emitted == expected.emitted && streamed.match == expected.match,
                    "stops \(stops) chunks \(chunks)")
        }
    }
}
