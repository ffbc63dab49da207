import BitNet
import CBitNetAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The chat template a call names, or the model's own.
func resolveChatTemplate(_ model: OpaquePointer?, _ templateName: UnsafePointer<CChar>?,
                         function: StaticString) throws(BitNetError) -> ChatTemplate {
    if let templateName {
        let name = try readCString(templateName, "\(function): template_name")
        guard let known = ChatTemplate(name: name) else {
            throw .invalidArgument("\(function): unknown template \"\(name)\" (known: bitnet, llama3, chatml)")
        }
        return known
    }
    let model = Handle<Model>.borrow(try require(model, "model (or template_name)", in: function))
    guard let own = model.tokenizer?.chatTemplate else {
        throw .unsupported("\(function): the model's chat template is not one we know; pass \"bitnet\", \"llama3\" or \"chatml\"")
    }
    return own
}

/// The grammar of a generation's `tools_json` / `tool_choice` / `tool_template`, or nil without tools.
func compileToolGrammar(_ p: bitnet_generation_params, model: Model, function: StaticString) throws(BitNetError) -> Grammar? {
    guard let toolsText = p.tools_json else {
        if p.tool_choice != nil { throw .invalidArgument("\(function): tool_choice needs tools_json") }
        return nil
    }
    guard p.grammar == nil, p.json_schema == nil else {
        throw .invalidArgument("\(function): tools_json and grammar / json_schema are mutually exclusive")
    }
    do throws(BitNetError) {
        let tools = try ToolSet(json: try readCString(toolsText, "tools_json"))
        let choice = try p.tool_choice.map { (text) throws(BitNetError) in try ToolChoice(try readCString(text, "tool_choice")) } ?? .auto
        let template: ChatTemplate
        if let name = p.tool_template {
            let text = try readCString(name, "tool_template")
            guard let known = ChatTemplate(name: text) else {
                throw .invalidArgument("tool_template: unknown template \"\(text)\" (known: bitnet, llama3, chatml)")
            }
            template = known
        } else {
            guard let own = model.tokenizer?.chatTemplate else {
                throw .unsupported("the model's chat template is not one we know; set tool_template")
            }
            template = own
        }
        return try template.toolGrammar(tools, choice: choice)
    } catch {
        throw BitNetError(error.status, "\(function): \(error.message)")
    }
}

@c @implementation
public func bitnet_tools_validate(_ tools_json: UnsafePointer<CChar>?, _ tool_choice: UnsafePointer<CChar>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let fn: StaticString = "bitnet_tools_validate"
        let text = try require(tools_json, "tools_json", in: fn)
        do throws(BitNetError) {
            let tools = try ToolSet(json: try readCString(text, "tools_json"))
            if let choiceText = tool_choice {
                let choice = try ToolChoice(try readCString(choiceText, "tool_choice"))
                try choice.validate(against: tools)
            }
        } catch {
            throw BitNetError(error.status, "\(fn): \(error.message)")
        }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_apply_chat_template_tools(_ model: OpaquePointer?, _ templateName: UnsafePointer<CChar>?,
                                             _ messagesJSON: UnsafePointer<CChar>?, _ toolsJSON: UnsafePointer<CChar>?,
                                             _ addAssistant: Int32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                             _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        len?.pointee = 0
        let fn: StaticString = "bitnet_apply_chat_template_tools"
        guard cap >= 0 else { throw .invalidArgument("\(fn): negative cap") }
        let template = try resolveChatTemplate(model, templateName, function: fn)
        let messagesText = try readCString(try require(messagesJSON, "messages_json", in: fn), "\(fn): messages_json")
        do throws(BitNetError) {
            let messages = try ChatMessage.list(fromJSON: messagesText)
            let tools = try toolsJSON.map { (text) throws(BitNetError) in try ToolSet(json: try readCString(text, "tools_json")) }
            let text = try template.apply(messages, tools: tools, addAssistant: addAssistant != 0)
            return try writeCString(text, to: buf, capacity: cap, length: len, function: fn)
        } catch {
            throw BitNetError(error.status, "\(fn): \(error.message)")
        }
    }
}

@c @implementation
public func bitnet_tool_calls_parse(_ model: OpaquePointer?, _ templateName: UnsafePointer<CChar>?,
                                    _ text: UnsafePointer<CChar>?, _ len: Int,
                                    _ out: UnsafeMutablePointer<UnsafeMutablePointer<bitnet_tool_calls>?>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let fn: StaticString = "bitnet_tool_calls_parse"
        let out = try require(out, "out", in: fn)
        out.pointee = nil
        // size_t arrives as Int: a SIZE_MAX-like length turns negative.
        guard len >= 0 else { throw .invalidArgument("\(fn): len \(len) is absurd") }
        let template = try resolveChatTemplate(model, templateName, function: fn)
        var reply = ""
        if len > 0 {
            let bytes = try require(text, "text", in: fn)
            guard let decoded = decodeUTF8(bytes, count: len) else { throw .invalidArgument("\(fn): text is not valid UTF-8") }
            reply = decoded
        }
        out.pointee = try packToolCalls(template.parseToolCalls(reply), function: fn)
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_tool_calls_free(_ calls: UnsafeMutablePointer<bitnet_tool_calls>?) {
    free(calls)
}

/// One malloc block: the header, the call structs, then the NUL-terminated
/// strings they point at, so freeing is one free() and a host cannot free a piece.
private func packToolCalls(_ output: ToolCallOutput, function: StaticString) throws(BitNetError) -> UnsafeMutablePointer<bitnet_tool_calls> {
    let headerSize = MemoryLayout<bitnet_tool_calls>.stride
    let callStride = MemoryLayout<bitnet_tool_call>.stride
    var strings: [[UInt8]] = [Array(output.content.utf8)]
    for call in output.calls { strings += [Array(call.id.utf8), Array(call.name.utf8), Array(call.arguments.utf8)] }
    var total = headerSize + callStride * output.calls.count
    for string in strings {
        let (sum, overflow) = total.addingReportingOverflow(string.count + 1)
        guard !overflow else { throw .outOfMemory("\(function): the reply is too large") }
        total = sum
    }
    guard let block = malloc(total) else { throw .outOfMemory("\(function): cannot allocate \(total) bytes") }
    let header = block.bindMemory(to: bitnet_tool_calls.self, capacity: 1)
    let callsBase = (block + headerSize).bindMemory(to: bitnet_tool_call.self, capacity: max(output.calls.count, 1))
    var cursor = block + headerSize + callStride * output.calls.count
    func place(_ bytes: [UInt8]) -> UnsafePointer<CChar> {
        let start = cursor.assumingMemoryBound(to: CChar.self)
        bytes.withUnsafeBytes { cursor.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(cursor), byteCount: bytes.count) }
        cursor.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        cursor += bytes.count + 1
        return UnsafePointer(start)
    }
    let content = place(strings[0])
    for index in output.calls.indices {
        let id = place(strings[1 + 3 * index]), name = place(strings[2 + 3 * index]), arguments = place(strings[3 + 3 * index])
        (callsBase + index).initialize(to: bitnet_tool_call(size: UInt32(MemoryLayout<bitnet_tool_call>.size), id: id,
                                                            name: name, arguments_json: arguments))
    }
    header.initialize(to: bitnet_tool_calls(size: UInt32(MemoryLayout<bitnet_tool_calls>.size), n_calls: output.calls.count,
                                            calls: output.calls.isEmpty ? nil : UnsafePointer(callsBase), content: content))
    return header
}
