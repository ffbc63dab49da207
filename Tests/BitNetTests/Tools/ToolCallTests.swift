import Testing
@testable import BitNet

/// Tool calls per family: the prompt layouts (golden strings written from the
/// published templates' documented formats: Meta's Llama 3.1 JSON tool
/// calling, Qwen's `<tools>` / `<tool_call>` / `<tool_response>` layout),
/// the grammar of a reply, and parsing replies back into calls.
@Suite struct ToolCallTests {
    static let weatherTools = """
        [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20},
            "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city", "unit"], "additionalProperties": false}}},
         {"type": "function", "function": {"name": "add", "parameters": {"type": "object",
          "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"],
          "additionalProperties": false}}}]
        """

    static func tools() throws -> ToolSet { try ToolSet(json: weatherTools) }

    // MARK: - Rendering

    @Test func llama31PutsToolsInTheFirstUserTurn() throws {
        let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: " Paris? ")]
        let text = try ChatTemplate.llama3.apply(messages, tools: try Self.tools(), addAssistant: true)
        let weather = """
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather of a city",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "city": {
                                "type": "string",
                                "maxLength": 20
                            },
                            "unit": {
                                "type": "string",
                                "enum": [
                                    "c",
                                    "f"
                                ]
                            }
                        },
                        "required": [
                            "city",
                            "unit"
                        ],
                        "additionalProperties": false
                    }
                }
            }
            """
        let add = """
            {
                "type": "function",
                "function": {
                    "name": "add",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "a": {
                                "type": "integer"
                            },
                            "b": {
                                "type": "integer"
                            }
                        },
                        "required": [
                            "a",
                            "b"
                        ],
                        "additionalProperties": false
                    }
                }
            }
            """
        let expected = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\nBe brief.<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\n"
            + "Given the following functions, please respond with a JSON for a function call with its proper arguments "
            + "that best answers the given prompt.\n\n"
            + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its value}."
            + "Do not use variables.\n\n" + weather + "\n\n" + add + "\n\n" + "Paris?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n"
        #expect(text == expected)
    }

    @Test func llama31RendersACallAndItsResult() throws {
        let messages = [
            ChatMessage(role: "user", content: "Paris?"),
            ChatMessage(role: "assistant", content: "",
                        toolCalls: [ToolCall(id: "call_1", name: "get_weather", arguments: #"{"city":"Paris","unit":"c"}"#)]),
            ChatMessage(role: "tool", content: "{\"temp\": 21}"),
        ]
        let text = try ChatTemplate.llama3.apply(messages, tools: nil, addAssistant: true)
        #expect(text == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\nParis?<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"unit\": \"c\"}}<|eot_id|>"
            + "<|start_header_id|>ipython<|end_header_id|>\n\n{\"temp\": 21}<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n")
        let two = [ChatMessage(role: "assistant", content: "", toolCalls: [
            ToolCall(id: "a", name: "add", arguments: "{}"), ToolCall(id: "b", name: "add", arguments: "{}")])]
        #expect(throws: BitNetError.self) { try ChatTemplate.llama3.apply(two, tools: nil, addAssistant: false) }
        #expect(throws: BitNetError.self) { try ChatTemplate.llama3.apply([], tools: try Self.tools(), addAssistant: true) }
    }

    @Test func bitnetUsesTheLlamaTextInItsOwnLayout() throws {
        let tools = try ToolSet(json: #"[{"type": "function", "function": {"name": "ping"}}]"#)
        let messages = [ChatMessage(role: "user", content: "Ping?"),
                        ChatMessage(role: "assistant", content: "", toolCalls: [ToolCall(id: "c", name: "ping", arguments: "{}")]),
                        ChatMessage(role: "tool", content: "pong")]
        let text = try ChatTemplate.bitnet.apply(messages, tools: tools, addAssistant: true)
        #expect(text == "<|begin_of_text|>System: Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n<|eot_id|>"
            + "User: Given the following functions, please respond with a JSON for a function call with its proper arguments "
            + "that best answers the given prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": "
            + "dictionary of argument name and its value}.Do not use variables.\n\n{\n    \"type\": \"function\",\n    \"function\": {\n"
            + "        \"name\": \"ping\"\n    }\n}\n\nPing?<|eot_id|>"
            + "Assistant: {\"name\": \"ping\", \"parameters\": {}}<|eot_id|>Ipython: pong<|eot_id|>Assistant: ")
    }

    @Test func qwenChatMLRendersToolsCallsAndResults() throws {
        let messages = [
            ChatMessage(role: "system", content: "Be brief."),
            ChatMessage(role: "user", content: "Paris and 2+3?"),
            ChatMessage(role: "assistant", content: "Checking.", toolCalls: [
                ToolCall(id: "c1", name: "get_weather", arguments: #"{"city": "Paris", "unit": "c"}"#),
                ToolCall(id: "c2", name: "add", arguments: #"{"a":2,"b":3}"#),
            ]),
            ChatMessage(role: "tool", content: "21"),
            ChatMessage(role: "tool", content: "5"),
        ]
        let text = try ChatTemplate.chatml.apply(messages, tools: try Self.tools(), addAssistant: true)
        let expected = "<|im_start|>system\nBe brief.\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
            + #"{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}, "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city", "unit"], "additionalProperties": false}}}"#
            + "\n"
            + #"{"type": "function", "function": {"name": "add", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"], "additionalProperties": false}}}"#
            + "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
            + "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n"
            + "</tool_call><|im_end|>\n"
            + "<|im_start|>user\nParis and 2+3?<|im_end|>\n"
            + "<|im_start|>assistant\nChecking.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call>"
            + "\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 2, \"b\": 3}}\n</tool_call><|im_end|>\n"
            + "<|im_start|>user\n<tool_response>\n21\n</tool_response>\n<tool_response>\n5\n</tool_response><|im_end|>\n"
            + "<|im_start|>assistant\n"
        #expect(text == expected)
    }

    @Test func withoutToolsTheTemplatesAreUnchanged() throws {
        let messages = [ChatMessage(role: "system", content: "s"), ChatMessage(role: "user", content: "u")]
        for template in ChatTemplate.allCases {
            #expect(try template.apply(messages, tools: nil, addAssistant: true) == template.apply(messages, addAssistant: true))
            #expect(try template.apply(messages, tools: try ToolSet(json: "[]"), addAssistant: true)
                    == template.apply(messages, addAssistant: true))
        }
    }

    @Test func pythonStyleJSONEscapesAsPython() throws {
        let value = try JSONParser.parse(#"{"a": "\b\f\u0001\u007f é\n", "b": [], "c": {}, "d": [1, 2.50]}"#)
        #expect(PythonStyleJSON.write(value) == #"{"a": "\b\f\u0001"# + "\u{7F} é" + #"\n", "b": [], "c": {}, "d": [1, 2.50]}"#)
        #expect(PythonStyleJSON.write(value, indent: 2) == "{\n  \"a\": \"\\b\\f\\u0001\u{7F} é\\n\",\n  \"b\": [],\n  \"c\": {},\n  \"d\": [\n    1,\n    2.50\n  ]\n}")
    }

    // MARK: - Tools and choices

    @Test func malformedToolsNameTheirJSONPointer() {
        func message(_ json: String) -> String {
            do { _ = try ToolSet(json: json); return "" } catch { return error.message }
        }
        #expect(message("{}") == "tools /: must be an array of tools")
        #expect(message(#"[{"type": "function", "function": {"name": 3}}]"#) == "tools /0/function/name: must be a string")
        #expect(message(#"[{"type": "function", "function": {"name": "a b"}}]"#).hasPrefix("tools /0/function/name:"))
        #expect(message(#"[{"type": "x"}]"#).hasPrefix("tools /0/type:"))
        #expect(message(#"[{"type": "function", "function": {"name": "a"}}, {"type": "function", "function": {"name": "a"}}]"#)
                .hasPrefix("tools /1/function/name:"))
        #expect(message(#"[{"type": "function", "function": {"name": "a", "parameters": {"type": "object", "properties": {"x": {"not": {}}}}}}]"#)
                .hasPrefix("tools /0/function/parameters #/properties/x"))
        #expect(message("[").hasPrefix("tools 1:2:"))
    }

    @Test func toolChoiceForms() throws {
        #expect(try ToolChoice("auto") == .auto)
        #expect(try ToolChoice("required") == .required)
        #expect(try ToolChoice("none") == .none)
        #expect(try ToolChoice("add") == .function("add"))
        #expect(try ToolChoice(#"{"type": "function", "function": {"name": "add"}}"#) == .function("add"))
        #expect(throws: BitNetError.self) { try ToolChoice(#"{"type": "function"}"#) }
        #expect(throws: BitNetError.self) { try ToolChoice.function("nope").validate(against: try Self.tools()) }
        #expect(throws: BitNetError.self) { try ToolChoice.required.validate(against: try ToolSet(json: "[]")) }
        // "auto" without tools: text only.
        let textOnly = GrammarMatcher(try ChatTemplate.chatml.toolGrammar(try ToolSet(json: "[]"), choice: .auto))
        #expect(try textOnly.matches("hello"))
        #expect(try !textOnly.matches("<tool_call>"))
    }

    // MARK: - Grammar

    static let weatherCall = #"{"name": "get_weather", "parameters": {"city": "Paris", "unit": "c"}}"#

    @Test func llamaGrammarAllowsCallsOrTextAsTheChoiceSays() throws {
        let tools = try Self.tools()
        let auto = GrammarMatcher(try ChatTemplate.llama3.toolGrammar(tools, choice: .auto))
        #expect(try auto.matches(Self.weatherCall))
        #expect(try auto.matches(#"{"name": "add", "parameters": {"a": 2, "b": -3}}"#))
        #expect(try auto.matches("It is sunny."))
        #expect(try auto.matches(""))
        #expect(try !auto.matches(#"{"name": "get_weather", "parameters": {"city": "Paris", "unit": "k"}}"#))
        #expect(try !auto.matches(#"{"name": "get_weather", "parameters": {"city": "Paris"}}"#))
        #expect(try !auto.matches(#"{"name": "other", "parameters": {}}"#))
        #expect(try !auto.matches("{ plain text"))
        #expect(try !auto.matches(" " + Self.weatherCall))
        let required = GrammarMatcher(try ChatTemplate.llama3.toolGrammar(tools, choice: .required))
        #expect(try required.matches(Self.weatherCall))
        #expect(try !required.matches("It is sunny."))
        let named = GrammarMatcher(try ChatTemplate.llama3.toolGrammar(tools, choice: .function("add")))
        #expect(try named.matches(#"{"name": "add", "parameters": {"a": 1, "b": 2}}"#))
        #expect(try !named.matches(Self.weatherCall))
        let none = GrammarMatcher(try ChatTemplate.llama3.toolGrammar(tools, choice: .none))
        #expect(try none.matches("It is sunny."))
        #expect(try !none.matches(Self.weatherCall))
    }

    @Test func chatMLGrammarKeepsCallsOutOfText() throws {
        let tools = try Self.tools()
        let call = "<tool_call>\n" + #"{"name": "add", "arguments": {"a": 1, "b": 2}}"# + "\n</tool_call>"
        let auto = GrammarMatcher(try ChatTemplate.chatml.toolGrammar(tools, choice: .auto))
        #expect(try auto.matches(call))
        #expect(try auto.matches(call + "\n" + call))
        #expect(try auto.matches("Let me add.\n" + call))
        #expect(try auto.matches("<think>\nhm\n</think>\n\nplain <tool <tool_cal text <<tool_"))
        #expect(try !auto.matches("text <tool_call> more"))
        #expect(try !auto.matches(call + " trailing"))
        #expect(try !auto.matches("<tool_call>\n" + #"{"name": "add", "arguments": {"a": 1}}"# + "\n</tool_call>"))
        let required = GrammarMatcher(try ChatTemplate.chatml.toolGrammar(tools, choice: .required))
        #expect(try required.matches(call))
        #expect(try !required.matches("text"))
        #expect(try !required.matches(""))
    }

    @Test func proseWithoutAWordIsExactlyTheTextsWithoutIt() throws {
        let grammar = try Grammar(gbnf: "root ::= " + ToolCallGrammar.proseWithout("<ab>") + "\n")
        let matcher = GrammarMatcher(grammar)
        // Every string over a small alphabet up to length 6: accepted iff it lacks "<ab>".
        let alphabet: [Character] = ["<", "a", "b", ">", "x"]
        var texts = [""]
        for _ in 0..<6 { texts = texts.flatMap { t in alphabet.map { t + String($0) } } + [""] }
        for text in Set(texts) {
            #expect(try matcher.matches(text) == !text.contains("<ab>"), "\(text)")
        }
    }

    // MARK: - Parsing

    @Test func parsesLlamaReplies() {
        let call = ChatTemplate.llama3.parseToolCalls(Self.weatherCall)
        #expect(call.content == "")
        #expect(call.calls.map(\.name) == ["get_weather"])
        #expect(call.calls.first?.arguments == #"{"city":"Paris","unit":"c"}"#)
        #expect(call.calls.first?.id.hasPrefix("call_") == true && call.calls.first?.id.count == 29)
        #expect(ChatTemplate.llama3.parseToolCalls(Self.weatherCall).calls == call.calls)  // stable ids
        let tagged = ChatTemplate.llama3.parseToolCalls("<|python_tag|> {\"name\":\"add\",\"arguments\":{\"a\":1}} \n")
        #expect(tagged.calls.map(\.arguments) == [#"{"a":1}"#])
        #expect(ChatTemplate.bitnet.parseToolCalls(Self.weatherCall).calls.count == 1)
        for text in ["It is sunny.", "{not json", #"{"name": "x y", "parameters": {}}"#, #"{"parameters": {}}"#,
                     #"{"name": "add", "parameters": [1]}"#, #"{"name": "add"} trailing"#, ""] {
            #expect(ChatTemplate.llama3.parseToolCalls(text) == ToolCallOutput(content: text, calls: []), "\(text)")
        }
    }

    @Test func parsesChatMLReplies() {
        let reply = "Sure.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}\n</tool_call>\n"
            + "<tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Oslo\",\"unit\":\"f\"}}</tool_call>"
        let parsed = ChatTemplate.chatml.parseToolCalls(reply)
        #expect(parsed.content == "Sure.")
        #expect(parsed.calls.map(\.name) == ["add", "get_weather"])
        #expect(parsed.calls.map(\.arguments) == [#"{"a":1,"b":2}"#, #"{"city":"Oslo","unit":"f"}"#])
        #expect(Set(parsed.calls.map(\.id)).count == 2)
        for text in ["plain", "<tool_call>\n{\"name\": \"add\", \"arguments\": {}}",  // no end tag
                     "<tool_call>{bad}</tool_call>", "<tool_call>{\"name\":\"add\"}</tool_call> then text"] {
            #expect(ChatTemplate.chatml.parseToolCalls(text) == ToolCallOutput(content: text, calls: []), "\(text)")
        }
    }

    @Test func messagesFromJSON() throws {
        let messages = try ChatMessage.list(fromJSON: """
            [{"role": "user", "content": "hi"},
             {"role": "assistant", "content": null, "tool_calls": [{"id": "call_9", "type": "function",
               "function": {"name": "add", "arguments": "{\\"a\\": 1}"}}]},
             {"role": "tool", "tool_call_id": "call_9", "content": "1"}]
            """)
        #expect(messages.count == 3)
        #expect(messages[1].toolCalls == [ToolCall(id: "call_9", name: "add", arguments: #"{"a":1}"#)])
        func message(_ json: String) -> String {
            do { _ = try ChatMessage.list(fromJSON: json); return "" } catch { return error.message }
        }
        #expect(message(#"[{"content": "x"}]"#) == "messages /0/role: must be a string")
        #expect(message(#"[{"role": "assistant", "tool_calls": [{"function": {"name": "add", "arguments": "[1"}}]}]"#)
                == "messages /0/tool_calls/0/function/arguments: must be the JSON text of an object")
    }

    // MARK: - Constrained generation on a random-weights model

    /// The qwen3 fixture (ChatML, random weights): its text is noise, but every
    /// reply must still parse as calls of the tools with valid arguments (or as
    /// text where text is allowed).
    @Test(arguments: [ToolChoice.required, .auto, .function("get_weather")])
    func constrainedRepliesAlwaysParse(choice: ToolChoice) throws {
        let model = try Model.load(path: SharedData.root + "/families/qwen3.tq2_0.gguf")
        var options = ContextOptions()
        options.contextLength = 2048
        options.threads = 2
        let context = try Context(model: model, options: options)
        let tools = try Self.tools()
        let template = ChatTemplate.chatml
        let prompt = try template.apply([ChatMessage(role: "user", content: "Weather in Paris?")], tools: tools, addAssistant: true)
        let argumentGrammars = try tools.tools.map { GrammarMatcher(try Grammar(jsonSchema: $0.parametersJSON)) }
        for seed in UInt64(1)...4 {
            var sampling = SamplingParams.balanced
            sampling.temperature = 1
            sampling.seed = seed
            let params = GenerationParams(sampling: sampling, maxNewTokens: 400, parseSpecial: true,
                                          grammar: try template.toolGrammar(tools, choice: choice))
            let generator = try Generator(context: context, prompt: .text(prompt), params: params)
            var text: [UInt8] = []
            try context.exclusive { () throws(BitNetError) in
                while let chunk = try generator.next() { text += chunk.text }
            }
            guard generator.stats.stopReason == .endOfText else { continue }  // a valid prefix at the limit
            let reply = template.parseToolCalls(String(decoding: text, as: UTF8.self))
            if choice != .auto { #expect(!reply.calls.isEmpty, "seed \(seed): \(reply.content.debugDescription)") }
            for call in reply.calls {
                let index = try #require(tools.tools.firstIndex { $0.name == call.name })
                if case .function(let name) = choice { #expect(call.name == name) }
                #expect(try argumentGrammars[index].matches(call.arguments), "\(call.arguments)")
            }
            if reply.calls.isEmpty { #expect(!reply.content.contains("<tool_call>")) }
        }
    }
}
