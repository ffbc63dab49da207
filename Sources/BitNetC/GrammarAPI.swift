import BitNet
import CBitNetAPI

/// The grammar a caller asked for: at most one of a GBNF text and a JSON
/// Schema text, compiled now so that a malformed one fails before anything starts.
func compileGrammar(_ grammar: UnsafePointer<CChar>?, _ schema: UnsafePointer<CChar>?,
                    function: StaticString) throws(BitNetError) -> Grammar? {
    do throws(BitNetError) {
        switch (grammar, schema) {
        case (nil, nil):
            return nil
        case (.some, .some):
            throw BitNetError.invalidArgument("grammar and json_schema are mutually exclusive: set at most one")
        case (let text?, nil):
            return try Grammar(gbnf: try readCString(text, "grammar"))
        case (nil, let text?):
            return try Grammar(jsonSchema: try readCString(text, "json_schema"))
        }
    } catch {
        throw BitNetError(error.status, "\(function): \(error.message)")
    }
}

@c @implementation
public func bitnet_grammar_validate(_ grammar: UnsafePointer<CChar>?, _ json_schema: UnsafePointer<CChar>?) -> Int32 {
    withStatus { () throws(BitNetError) -> Int32 in
        guard grammar != nil || json_schema != nil else {
            throw .invalidArgument("bitnet_grammar_validate: give a grammar or a json_schema (both are NULL)")
        }
        _ = try compileGrammar(grammar, json_schema, function: "bitnet_grammar_validate")
        return Status.ok.rawValue
    }
}
