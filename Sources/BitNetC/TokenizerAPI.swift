import BitNet
import CBitNetAPI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The model's tokenizer, or BITNET_E_UNSUPPORTED when the file had none.
private func tokenizer(_ model: OpaquePointer?, in function: StaticString) throws(BitNetError) -> Tokenizer {
    let model = Handle<Model>.borrow(try require(model, "model", in: function))
    guard let tokenizer = model.tokenizer else { throw .unsupported("\(function): the model has no tokenizer metadata") }
    return tokenizer
}

/// snprintf-style byte output (the bytes may contain anything, even NUL; the
/// caller goes by `length`).
private func writeBytes(_ bytes: [UInt8], to buffer: UnsafeMutablePointer<CChar>?, capacity: Int,
                        length: UnsafeMutablePointer<Int>?, function: StaticString) throws(BitNetError) -> Int32 {
    length?.pointee = bytes.count
    if capacity > 0 {
        guard let buffer else { throw .invalidArgument("\(function): buf is NULL but cap is \(capacity)") }
        let copied = min(bytes.count, capacity - 1)
        bytes.withUnsafeBytes { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress ?? UnsafeRawPointer(buffer), byteCount: copied)
        }
        buffer[copied] = 0
    }
    guard bytes.count < capacity else {
        throw BitNetError(.bufferTooSmall, "\(function): needs \(bytes.count + 1) bytes, buffer has \(capacity)")
    }
    return Status.ok.rawValue
}

@c @implementation
public func bitnet_tokenize(_ model: OpaquePointer?, _ text: UnsafePointer<CChar>?, _ len: Int, _ addBOS: Int32,
                            _ parseSpecial: Int32, _ tokens: UnsafeMutablePointer<Int32>?, _ cap: Int,
                            _ nTokens: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        let nTokens = try require(nTokens, "n_tokens", in: "bitnet_tokenize")
        nTokens.pointee = 0
        let tokenizer = try tokenizer(model, in: "bitnet_tokenize")
        guard len >= 0 else { throw .invalidArgument("bitnet_tokenize: len \(len) is negative") }
        let bytes: UnsafeBufferPointer<UInt8>
        if len == 0 {
            bytes = UnsafeBufferPointer(start: nil, count: 0)
        } else {
            let text = try require(text, "text", in: "bitnet_tokenize")
            bytes = UnsafeBufferPointer(start: UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self), count: len)
        }
        let ids: [Int32]
        do throws(BitNetError) {
            ids = try tokenizer.encode(utf8: bytes, addBOS: addBOS != 0, parseSpecial: parseSpecial != 0)
        } catch {
            throw BitNetError(error.status, "bitnet_tokenize: \(error.message)")
        }
        nTokens.pointee = ids.count
        if cap > 0 {
            let tokens = try require(tokens, "tokens", in: "bitnet_tokenize")
            for i in 0..<min(cap, ids.count) { tokens[i] = ids[i] }
        }
        guard ids.count <= cap else {
            throw BitNetError(.bufferTooSmall, "bitnet_tokenize: needs room for \(ids.count) tokens, cap is \(cap)")
        }
        return Status.ok.rawValue
    }
}

@c @implementation
public func bitnet_detokenize(_ model: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ n: Int,
                              _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int, _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        len?.pointee = 0
        let tokenizer = try tokenizer(model, in: "bitnet_detokenize")
        guard n >= 0, cap >= 0 else { throw .invalidArgument("bitnet_detokenize: negative n or cap") }
        var ids: [Int32] = []
        if n > 0 {
            let tokens = try require(tokens, "tokens", in: "bitnet_detokenize")
            ids = Array(UnsafeBufferPointer(start: tokens, count: n))
        }
        if let bad = ids.firstIndex(where: { $0 < 0 || Int($0) >= tokenizer.vocabularySize }) {
            throw .invalidArgument("bitnet_detokenize: tokens[\(bad)] = \(ids[bad]) is outside the vocabulary (0..<\(tokenizer.vocabularySize))")
        }
        return try writeBytes(tokenizer.decode(ids), to: buf, capacity: cap, length: len, function: "bitnet_detokenize")
    }
}

@c @implementation
public func bitnet_token_to_piece(_ model: OpaquePointer?, _ token: Int32, _ buf: UnsafeMutablePointer<CChar>?,
                                  _ cap: Int, _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        len?.pointee = 0
        let tokenizer = try tokenizer(model, in: "bitnet_token_to_piece")
        guard cap >= 0 else { throw .invalidArgument("bitnet_token_to_piece: negative cap") }
        guard let piece = tokenizer.piece(token) else {
            throw .invalidArgument("bitnet_token_to_piece: token \(token) is outside the vocabulary (0..<\(tokenizer.vocabularySize))")
        }
        return try writeBytes(piece, to: buf, capacity: cap, length: len, function: "bitnet_token_to_piece")
    }
}

private func tokenizerOrNil(_ model: OpaquePointer?) -> Tokenizer? {
    guard let model else { return nil }
    return Handle<Model>.borrow(model).tokenizer
}

@c @implementation
public func bitnet_token_bos(_ model: OpaquePointer?) -> Int32 { tokenizerOrNil(model)?.bos ?? -1 }

@c @implementation
public func bitnet_token_eos(_ model: OpaquePointer?) -> Int32 { tokenizerOrNil(model)?.eos ?? -1 }

@c @implementation
public func bitnet_token_eot(_ model: OpaquePointer?) -> Int32 { tokenizerOrNil(model)?.eot ?? -1 }

@c @implementation
public func bitnet_vocab_size(_ model: OpaquePointer?) -> Int32 {
    tokenizerOrNil(model).map { Int32(clamping: $0.vocabularySize) } ?? -1
}

@c @implementation
public func bitnet_apply_chat_template(_ model: OpaquePointer?, _ templateName: UnsafePointer<CChar>?,
                                       _ roles: UnsafePointer<UnsafePointer<CChar>?>?,
                                       _ contents: UnsafePointer<UnsafePointer<CChar>?>?, _ n: Int,
                                       _ addAssistant: Int32, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                       _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        len?.pointee = 0
        let fn: StaticString = "bitnet_apply_chat_template"
        _ = try require(model, "model", in: fn)
        guard n >= 0, cap >= 0 else { throw .invalidArgument("\(fn): negative n or cap") }
        let template = try resolveChatTemplate(model, templateName, function: fn)
        var messages: [ChatMessage] = []
        if n > 0 {
            let roles = try require(roles, "roles", in: fn)
            let contents = try require(contents, "contents", in: fn)
            for i in 0..<n {
                guard let role = roles[i], let content = contents[i] else {
                    throw .invalidArgument("\(fn): roles[\(i)] or contents[\(i)] is NULL")
                }
                guard let roleText = decodeUTF8(role, count: strlen(role)),
                      let contentText = decodeUTF8(content, count: strlen(content)) else {
                    throw .invalidArgument("\(fn): message \(i) is not valid UTF-8")
                }
                messages.append(ChatMessage(role: roleText, content: contentText))
            }
        }
        let text = template.apply(messages, addAssistant: addAssistant != 0)
        return try writeBytes(Array(text.utf8), to: buf, capacity: cap, length: len, function: fn)
    }
}
