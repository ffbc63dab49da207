/// The Unicode facts the pre-tokenizer regexes ask about a code point:
/// `\p{L}`, `\p{N}`, `\p{P}` and `\s` (the White_Space property).
///
/// Swift's `Unicode.Scalar.Properties` answers these without Foundation, but
/// a trie walk per character is too slow for megabytes of text, so the Basic
/// Multilingual Plane is flattened into a 64 KiB table on first use; the rare
/// code points above it ask the standard library directly.
struct CharacterClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = CharacterClass(rawValue: 1)
    static let number = CharacterClass(rawValue: 2)
    static let punctuation = CharacterClass(rawValue: 4)
    static let whitespace = CharacterClass(rawValue: 8)

    /// Classifies one scalar from the standard library's Unicode data.
    static func compute(_ scalar: Unicode.Scalar) -> CharacterClass {
        var result: CharacterClass = []
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            result.insert(.punctuation)
        default:
            break
        }
        if properties.isWhitespace { result.insert(.whitespace) }
        return result
    }

    /// Classes of U+0000...U+FFFF (surrogates classify as nothing).
    static let basicPlane: [CharacterClass] = {
        var table = [CharacterClass](repeating: [], count: 0x10000)
        for v in 0..<0x10000 {
            if let scalar = Unicode.Scalar(UInt32(v)) { table[v] = compute(scalar) }
        }
        return table
    }()

    @inline(__always)
    static func of(_ codePoint: UInt32) -> CharacterClass {
        if codePoint < 0x10000 { return basicPlane.withUnsafeBufferPointer { $0[Int(codePoint)] } }
        guard let scalar = Unicode.Scalar(codePoint) else { return [] }
        return compute(scalar)
    }
}
