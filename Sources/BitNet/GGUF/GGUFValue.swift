/// The value types of GGUF metadata, with their on-disk type ids.
package enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5
    case float32 = 6, bool = 7, string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// Lower-case name used in error messages ("expected uint32, got string").
    package var name: String {
        switch self {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float32: "float32"
        case .bool: "bool"
        case .string: "string"
        case .array: "array"
        case .uint64: "uint64"
        case .int64: "int64"
        case .float64: "float64"
        }
    }

    /// Bytes of one value of a fixed-size type; nil for string and array.
    var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The fewest bytes one value of this type can occupy in a file (a string
    /// is at least its 8-byte length, an array its 4-byte type + 8-byte count).
    /// Used to reject absurd element counts before allocating anything.
    var minimumEncodedSize: Int {
        switch self {
        case .string: 8
        case .array: 12
        default: fixedSize ?? 1
        }
    }
}

/// One metadata value of a GGUF file.
///
/// Strings are decoded from UTF-8 with invalid sequences replaced by U+FFFD
/// (GGUF does not promise valid UTF-8; token strings of some vocabularies are
/// raw bytes). `GGUFFile.rawStringArray(forKey:)` returns the exact bytes.
package enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool)
    case string(String)
    case array(GGUFArray)

    package var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// "uint32", "string", "array[string]" — for error messages and `inspect`.
    package var typeDescription: String {
        if case .array(let array) = self { return "array[\(array.elementType.name)]" }
        return type.name
    }

    package var asString: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Any integer type whose value fits in `Int`; nil for other types or out of range.
    package var asInt: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// Floating-point values, and integers (converted).
    package var asDouble: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: asInt.map(Double.init)
        }
    }

    package var asBool: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    package var asArray: GGUFArray? {
        if case .array(let a) = self { return a }
        return nil
    }

    package var asStrings: [String]? {
        if case .array(.string(let s)) = self { return s }
        return nil
    }

    /// Integer arrays of any element type whose every value fits in `Int`.
    package var asInts: [Int]? { asArray?.asInts }

    /// float32 arrays as they are; float64 and integer arrays converted.
    package var asFloats: [Float]? { asArray?.asFloats }

    /// Human-readable text: numbers in decimal, strings as they are, arrays
    /// summarized when longer than `maxArrayElements`.
    package func formatted(maxArrayElements: Int = .max) -> String {
        switch self {
        case .uint8(let v): String(v)
        case .int8(let v): String(v)
        case .uint16(let v): String(v)
        case .int16(let v): String(v)
        case .uint32(let v): String(v)
        case .int32(let v): String(v)
        case .uint64(let v): String(v)
        case .int64(let v): String(v)
        case .float32(let v): String(v)
        case .float64(let v): String(v)
        case .bool(let v): v ? "true" : "false"
        case .string(let s): s
        case .array(let a): a.formatted(maxElements: maxArrayElements)
        }
    }
}

/// A homogeneous GGUF array (nested arrays are allowed by the format).
package enum GGUFArray: Sendable, Equatable {
    case uint8([UInt8]), int8([Int8]), uint16([UInt16]), int16([Int16]), uint32([UInt32]), int32([Int32])
    case uint64([UInt64]), int64([Int64]), float32([Float]), float64([Double]), bool([Bool])
    case string([String])
    case array([GGUFArray])

    package var elementType: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    package var count: Int {
        switch self {
        case .uint8(let a): a.count
        case .int8(let a): a.count
        case .uint16(let a): a.count
        case .int16(let a): a.count
        case .uint32(let a): a.count
        case .int32(let a): a.count
        case .uint64(let a): a.count
        case .int64(let a): a.count
        case .float32(let a): a.count
        case .float64(let a): a.count
        case .bool(let a): a.count
        case .string(let a): a.count
        case .array(let a): a.count
        }
    }

    package var asInts: [Int]? {
        func convert<T: BinaryInteger>(_ values: [T]) -> [Int]? {
            var result = [Int]()
            result.reserveCapacity(values.count)
            for v in values {
                guard let i = Int(exactly: v) else { return nil }
                result.append(i)
            }
            return result
        }
        switch self {
        case .uint8(let a): return convert(a)
        case .int8(let a): return convert(a)
        case .uint16(let a): return convert(a)
        case .int16(let a): return convert(a)
        case .uint32(let a): return convert(a)
        case .int32(let a): return a.map(Int.init)
        case .uint64(let a): return convert(a)
        case .int64(let a): return a.map(Int.init)
        default: return nil
        }
    }

    package var asFloats: [Float]? {
        switch self {
        case .float32(let a): return a
        case .float64(let a): return a.map(Float.init)
        default: return asInts?.map(Float.init)
        }
    }

    /// Element `i` as text (used for summaries).
    func formattedElement(_ i: Int) -> String {
        switch self {
        case .uint8(let a): String(a[i])
        case .int8(let a): String(a[i])
        case .uint16(let a): String(a[i])
        case .int16(let a): String(a[i])
        case .uint32(let a): String(a[i])
        case .int32(let a): String(a[i])
        case .uint64(let a): String(a[i])
        case .int64(let a): String(a[i])
        case .float32(let a): String(a[i])
        case .float64(let a): String(a[i])
        case .bool(let a): a[i] ? "true" : "false"
        case .string(let a): quoted(a[i])
        case .array(let a): a[i].formatted(maxElements: 4)
        }
    }

    /// "[1, 2, 3]", or "[a, b, c, ... (128256 elements)]" when longer than `maxElements`.
    package func formatted(maxElements: Int = .max) -> String {
        let shown = Swift.min(count, maxElements)
        var parts = [String]()
        parts.reserveCapacity(shown + 1)
        for i in 0..<shown { parts.append(formattedElement(i)) }
        if shown < count { parts.append("... (\(count) elements)") }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}

/// A string as a quoted literal with control characters escaped, so token
/// strings like "\n" stay readable in summaries (other control characters as \xNN).
func quoted(_ s: String) -> String {
    doubleQuoted(s) { "\\x" + String($0, radix: 16) }
}
