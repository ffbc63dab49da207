import Testing
@testable import BitNet

@Suite struct StreamingDetokenizerTests {
    @Test(arguments: ["llama-bpe", "gpt-2", "llama-spm"])
    func chunksAreCompleteUTF8AndConcatenateToTheText(_ name: String) throws {
        let tokenizer = try VocabFixtures.tokenizer(name)
        var rng = TokenizerTestRNG(state: 99)
        for _ in 0..<200 {
            let text = randomText(&rng)
            var stream = StreamingDetokenizer(tokenizer: tokenizer)
            var joined: [UInt8] = []
            for id in tokenizer.encode(text) {
                let chunk = stream.append(id)
                #expect(!chunk.unicodeScalars.contains("\u{FFFD}"))
                joined += Array(chunk.utf8)
            }
            #expect(stream.heldBack == 0)
            joined += Array(stream.flush().utf8)
            var expected = Array(text.utf8)
            // Streaming keeps SentencePiece's prefix space (only whole-sequence decode drops it).
            if tokenizer.addsSpacePrefix && !expected.isEmpty { expected.insert(0x20, at: 0) }
            #expect(joined == expected, "\(name): \(text.debugDescription)")
        }
    }

    @Test func holdsBackAnUnfinishedCharacter() throws {
        let tokenizer = try VocabFixtures.tokenizer("llama-bpe")
        // Byte tokens: 'é' = C3 A9, spelled 'Ã' and '©' in GPT-2's byte map.
        let c3 = try #require(tokenizer.encode("\u{C3}").first.flatMap { _ in byteToken(tokenizer, 0xC3) })
        let a9 = try #require(byteToken(tokenizer, 0xA9))
        var stream = StreamingDetokenizer(tokenizer: tokenizer)
        #expect(stream.append(c3) == "")
        #expect(stream.heldBack == 1)
        #expect(stream.append(a9) == "é")
        // A lone continuation byte can never complete: replaced, not held.
        #expect(stream.append(a9) == "\u{FFFD}")
        #expect(stream.append(c3) == "")
        #expect(stream.flush() == "\u{FFFD}")
    }

    private func byteToken(_ t: Tokenizer, _ b: UInt8) -> Int32? {
        (0..<Int32(t.vocabularySize)).first { t.piece($0) == [b] }
    }
}

@Suite struct ChatTemplateTests {
    let conversation = [
        ChatMessage(role: "system", content: "You are helpful."),
        ChatMessage(role: "user", content: "  Hi there \n"),
        ChatMessage(role: "assistant", content: "Hello!"),
        ChatMessage(role: "user", content: "Bye"),
    ]

    @Test func bitnet() {
        #expect(ChatTemplate.bitnet.apply(conversation, addAssistant: true)
            == "<|begin_of_text|>System: You are helpful.<|eot_id|>User: Hi there<|eot_id|>Assistant: Hello!<|eot_id|>User: Bye<|eot_id|>Assistant: ")
        #expect(ChatTemplate.bitnet.apply([ChatMessage(role: "user", content: "x")], addAssistant: false)
            == "<|begin_of_text|>User: x<|eot_id|>")
    }

    @Test func llama3() {
        #expect(ChatTemplate.llama3.apply(Array(conversation.prefix(2)), addAssistant: true)
            == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are helpful.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    }

    @Test func chatml() {
        #expect(ChatTemplate.chatml.apply(Array(conversation.prefix(2)), addAssistant: true)
            == "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n  Hi there \n<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test func selection() {
        #expect(ChatTemplate(name: "bitnet") == .bitnet)
        #expect(ChatTemplate(name: "llama3") == .llama3)
        #expect(ChatTemplate(name: "chatml") == .chatml && ChatTemplate(name: "qwen3") == .chatml)
        #expect(ChatTemplate(name: "mistral") == nil)
        let hf2b4t = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}"
        #expect(ChatTemplate(detecting: hf2b4t) == .bitnet)
        #expect(ChatTemplate(detecting: "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}") == .llama3)
        #expect(ChatTemplate(detecting: "{{ '<|im_start|>' }}") == .chatml)
        #expect(ChatTemplate(detecting: "{{ '[INST]' }}") == nil)
    }

    @Test func templateTokenizesWithSpecialTokens() throws {
        let t = try VocabFixtures.tokenizer("llama-bpe")
        let ids = t.encode(ChatTemplate.bitnet.apply([ChatMessage(role: "user", content: "Hi")], addAssistant: true), addBOS: true, parseSpecial: true)
        #expect(ids.first == 128000)
        #expect(ids.filter { $0 == 128000 }.count == 1)
        #expect(ids.contains(128009))
        #expect(t.decodeText(ids) == "User: Hi" + "Assistant: ")
    }
}
