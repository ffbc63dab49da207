import BitNet

/// Streams a reply to tools: text goes out as it comes, calls are held back
/// until the reply is complete and then sent as `delta.tool_calls`.
///
/// The tool grammar makes the split exact: in the Llama JSON format a reply
/// is a call iff it starts with "{"; in ChatML, text never contains
/// "<tool_call>", so text is released up to a "<" that might begin it.
struct ToolCallStream {
    let template: ChatTemplate
    private var all = ""
    /// UTF-8 bytes of `all` already released as text.
    private var releasedBytes = 0
    private var inCalls = false

    init(template: ChatTemplate) { self.template = template }

    /// The part of the reply so far that is certainly text and not yet released (maybe empty).
    mutating func feed(_ chunk: String) -> String {
        all += chunk
        guard !inCalls else { return "" }
        let pending = String(decoding: all.utf8.dropFirst(releasedBytes), as: UTF8.self)
        var out = pending
        switch template.toolCallStyle {
        case .llamaJSON:
            if all.first == "{" { inCalls = true; out = "" }
        case .taggedJSON:
            let opener = "<tool_call>"
            if let range = pending.firstRange(of: opener) {
                inCalls = true
                out = String(pending[..<range.lowerBound])
            } else if let last = pending.lastIndex(of: "<"), opener.hasPrefix(pending[last...]) {
                out = String(pending[..<last])  // hold back what could still grow into the opener
            }
        }
        releasedBytes += out.utf8.count
        return out
    }

    /// At the end: the calls, or (when the reply is text after all) the text still held.
    func finish() -> (text: String, calls: [ToolCall]) {
        let output = template.parseToolCalls(all)
        if !output.calls.isEmpty { return ("", output.calls) }
        return (String(decoding: all.utf8.dropFirst(releasedBytes), as: UTF8.self), [])
    }
}
