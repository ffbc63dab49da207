/// GBNF for JSON numbers within bounds: plain decimals (no exponent) with at
/// most 16 integer and 16 fraction digits, built digit by digit the way one
/// compares two decimal strings, so every generated number is in range.
///
/// Bounds become exact decimals through the shortest text that reads back as
/// the same Double: a number x written in full satisfies `x >= that text`
/// exactly when a validator reading x as a Double finds it `>=` the bound
/// (rounding is monotonic). Exclusive bounds use the next Double inward.
enum NumberRangeGrammar {
    static let maxDigits = 16
    /// 10^16 - 1: the largest integer part.
    static let largestInteger: UInt64 = 9_999_999_999_999_999

    /// A non-negative decimal: integer part and fraction digits (no trailing zeros).
    struct Magnitude: Comparable {
        var integer: UInt64
        var fraction: [UInt8]

        static func < (a: Magnitude, b: Magnitude) -> Bool {
            if a.integer != b.integer { return a.integer < b.integer }
            return a.fraction.lexicographicallyPrecedes(b.fraction)
        }

        static let largest = Magnitude(integer: largestInteger, fraction: [UInt8](repeating: 9, count: maxDigits))
        static let zero = Magnitude(integer: 0, fraction: [])
    }

    /// A signed decimal.
    struct Decimal {
        var negative: Bool
        var magnitude: Magnitude

        /// The exact value of `value`'s shortest round-trip text, clamped to the representable range.
        init(_ value: Double) {
            negative = value < 0
            magnitude = Self.magnitude(of: Swift.abs(value))
        }

        /// True when a ≤ b.
        static func lessOrEqual(_ a: Decimal, _ b: Decimal) -> Bool {
            let aZero = a.magnitude == .zero, bZero = b.magnitude == .zero
            let aNegative = a.negative && !aZero, bNegative = b.negative && !bZero
            if aNegative != bNegative { return aNegative }
            return aNegative ? b.magnitude <= a.magnitude : a.magnitude <= b.magnitude
        }

        private static func magnitude(of value: Double) -> Magnitude {
            // "1.5", "1e-05", "2.5e+20", "100.0": digits and a decimal exponent.
            let text = "\(value)"
            var digits: [UInt8] = []
            var pointAt: Int?
            var exponent = 0
            var rest = Substring(text)
            if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                exponent = Int(rest[rest.index(after: e)...]) ?? 0
                rest = rest[..<e]
            }
            for c in rest {
                if c == "." { pointAt = digits.count } else if let d = c.wholeNumberValue { digits.append(UInt8(d)) }
            }
            let integerCount = (pointAt ?? digits.count) + exponent
            if integerCount > maxDigits { return .largest }
            var integerDigits: [UInt8] = [], fraction: [UInt8] = []
            if integerCount <= 0 {
                fraction = [UInt8](repeating: 0, count: -integerCount) + digits
            } else {
                let padded = digits + [UInt8](repeating: 0, count: max(0, integerCount - digits.count))
                integerDigits = Array(padded[..<integerCount])
                fraction = Array(padded[integerCount...])
            }
            while fraction.last == 0 { fraction.removeLast() }
            let integer = integerDigits.reduce(UInt64(0)) { $0 * 10 + UInt64($1) }
            return Magnitude(integer: integer, fraction: fraction)
        }
    }

    // MARK: - Integers

    static func digitClass(_ low: UInt8, _ high: UInt8) -> String {
        low == high ? "\"\(low)\"" : low == 0 && high == 9 ? "[0-9]" : "[\(low)-\(high)]"
    }

    static func anyDigits(_ count: Int) -> String {
        count == 0 ? "" : count == 1 ? "[0-9]" : "[0-9]{\(count)}"
    }

    private static func digits(_ value: UInt64, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        var rest = value
        for i in stride(from: length - 1, through: 0, by: -1) {
            out[i] = UInt8(rest % 10)
            rest /= 10
        }
        return out
    }

    private static func length(_ value: UInt64) -> Int { value < 10 ? 1 : 1 + length(value / 10) }

    private static func alternatives(_ parts: [String]) -> String {
        let kept = parts.filter { !$0.isEmpty }
        return kept.count == 1 ? kept[0] : "(" + kept.joined(separator: " | ") + ")"
    }

    /// Strings of `low.count` digits between `low` and `high` (same length).
    private static func fixedLength(_ low: ArraySlice<UInt8>, _ high: ArraySlice<UInt8>) -> String {
        guard let a = low.first, let b = high.first else { return "" }
        let n = low.count - 1
        if a == b { return join("\"\(a)\"", fixedLength(low.dropFirst(), high.dropFirst())) }
        if low.dropFirst().allSatisfy({ $0 == 0 }) && high.dropFirst().allSatisfy({ $0 == 9 }) {
            return join(digitClass(a, b), anyDigits(n))
        }
        var parts = [join("\"\(a)\"", atLeast(low.dropFirst()))]
        if a + 1 <= b - 1 { parts.append(join(digitClass(a + 1, b - 1), anyDigits(n))) }
        parts.append(join("\"\(b)\"", atMost(high.dropFirst())))
        return alternatives(parts)
    }

    private static func atLeast(_ low: ArraySlice<UInt8>) -> String {
        guard let a = low.first else { return "" }
        if low.allSatisfy({ $0 == 0 }) { return anyDigits(low.count) }
        var parts = [join("\"\(a)\"", atLeast(low.dropFirst()))]
        if a < 9 { parts.append(join(digitClass(a + 1, 9), anyDigits(low.count - 1))) }
        return alternatives(parts)
    }

    private static func atMost(_ high: ArraySlice<UInt8>) -> String {
        guard let b = high.first else { return "" }
        if high.allSatisfy({ $0 == 9 }) { return anyDigits(high.count) }
        var parts = [join("\"\(b)\"", atMost(high.dropFirst()))]
        if b > 0 { parts.append(join(digitClass(0, b - 1), anyDigits(high.count - 1))) }
        return alternatives(parts)
    }

    private static func join(_ a: String, _ b: String) -> String {
        a.isEmpty ? b : b.isEmpty ? a : a + " " + b
    }

    /// Non-negative integers in `low...high`, without leading zeros.
    static func naturals(_ low: UInt64, _ high: UInt64) -> String {
        var parts: [String] = []
        for n in length(low)...length(high) {
            let first: UInt64 = n == 1 ? 0 : (1...n - 1).reduce(1) { value, _ in value * 10 }
            let last: UInt64 = n >= 20 ? UInt64.max : (0..<n).reduce(1) { value, _ in value * 10 } - 1
            let a = max(low, first), b = min(high, last)
            if a <= b { parts.append(fixedLength(digits(a, length: n)[...], digits(b, length: n)[...])) }
        }
        return alternatives(parts)
    }

    /// Integers in `low...high` (|bounds| ≤ 10^16 − 1).
    static func integers(_ low: Int64, _ high: Int64) -> String {
        var parts: [String] = []
        if high >= 0 { parts.append(naturals(UInt64(max(low, 0)), UInt64(high))) }
        if low < 0 {
            let magnitudeLow = UInt64(high < 0 ? -high : 1), magnitudeHigh = UInt64(-low)
            parts.append("\"-\" " + naturals(magnitudeLow, magnitudeHigh))
        }
        return alternatives(parts)
    }

    // MARK: - Fractions

    /// A set of fraction digit strings (value 0.d1d2...): the non-empty
    /// strings as GBNF, and whether "no fraction at all" belongs to it.
    struct Fractions {
        var nonEmpty: String?
        var includesEmpty: Bool

        /// `digit` followed by any of these strings.
        func after(_ digit: String) -> Fractions {
            switch (nonEmpty, includesEmpty) {
            case (let ne?, true): return Fractions(nonEmpty: digit + " (" + ne + ")?", includesEmpty: false)
            case (let ne?, false): return Fractions(nonEmpty: digit + " " + ne, includesEmpty: false)
            case (nil, true): return Fractions(nonEmpty: digit, includesEmpty: false)
            case (nil, false): return Fractions(nonEmpty: nil, includesEmpty: false)
            }
        }

        static func union(_ parts: [Fractions]) -> Fractions {
            let ne = parts.compactMap(\.nonEmpty)
            return Fractions(nonEmpty: ne.isEmpty ? nil : alternatives(ne), includesEmpty: parts.contains { $0.includesEmpty })
        }

        /// As the optional ".digits" part of a number.
        var suffix: String {
            guard let ne = nonEmpty else { return "" }
            return includesEmpty ? "(\".\" " + ne + ")?" : "\".\" " + ne
        }
    }

    static func anyFraction(_ room: Int) -> Fractions {
        Fractions(nonEmpty: room == 0 ? nil : room == 1 ? "[0-9]" : "[0-9]{1,\(room)}", includesEmpty: true)
    }

    /// Fractions ≥ 0.low with at most `room` digits.
    static func fractions(atLeast low: ArraySlice<UInt8>, room: Int) -> Fractions {
        guard let a = low.first else { return anyFraction(room) }
        guard room > 0 else { return Fractions(nonEmpty: nil, includesEmpty: false) }
        var parts = [fractions(atLeast: low.dropFirst(), room: room - 1).after("\"\(a)\"")]
        if a < 9 { parts.append(Fractions(nonEmpty: join(digitClass(a + 1, 9), room > 1 ? "[0-9]{0,\(room - 1)}" : ""), includesEmpty: false)) }
        return .union(parts)
    }

    /// Fractions ≤ 0.high with at most `room` digits.
    static func fractions(atMost high: ArraySlice<UInt8>, room: Int) -> Fractions {
        guard let b = high.first else {
            return Fractions(nonEmpty: room == 0 ? nil : room == 1 ? "\"0\"" : "\"0\"{1,\(room)}", includesEmpty: true)
        }
        guard room > 0 else { return Fractions(nonEmpty: nil, includesEmpty: true) }
        var parts = [Fractions(nonEmpty: nil, includesEmpty: true), fractions(atMost: high.dropFirst(), room: room - 1).after("\"\(b)\"")]
        if b > 0 { parts.append(Fractions(nonEmpty: join(digitClass(0, b - 1), room > 1 ? "[0-9]{0,\(room - 1)}" : ""), includesEmpty: false)) }
        return .union(parts)
    }

    /// Fractions between 0.low and 0.high (low ≤ high).
    static func fractions(from low: ArraySlice<UInt8>, to high: ArraySlice<UInt8>, room: Int) -> Fractions {
        guard let a = low.first else { return fractions(atMost: high, room: room) }
        guard let b = high.first, room > 0 else { return Fractions(nonEmpty: nil, includesEmpty: false) }
        if a == b { return fractions(from: low.dropFirst(), to: high.dropFirst(), room: room - 1).after("\"\(a)\"") }
        var parts = [fractions(atLeast: low.dropFirst(), room: room - 1).after("\"\(a)\"")]
        if a + 1 <= b - 1 { parts.append(Fractions(nonEmpty: join(digitClass(a + 1, b - 1), room > 1 ? "[0-9]{0,\(room - 1)}" : ""), includesEmpty: false)) }
        parts.append(fractions(atMost: high.dropFirst(), room: room - 1).after("\"\(b)\""))
        return .union(parts)
    }

    // MARK: - Decimals

    private static func integerLiteral(_ value: UInt64) -> String { "\"\(value)\"" }

    /// Non-negative decimals in `low...high` (low ≤ high).
    static func magnitudes(_ low: Magnitude, _ high: Magnitude) -> String {
        if low.integer == high.integer {
            return join(integerLiteral(low.integer), fractions(from: low.fraction[...], to: high.fraction[...], room: maxDigits).suffix)
        }
        var parts = [join(integerLiteral(low.integer), fractions(atLeast: low.fraction[...], room: maxDigits).suffix)]
        if low.integer + 1 <= high.integer - 1 {
            parts.append(join(naturals(low.integer + 1, high.integer - 1), anyFraction(maxDigits).suffix))
        }
        parts.append(join(integerLiteral(high.integer), fractions(atMost: high.fraction[...], room: maxDigits).suffix))
        return alternatives(parts)
    }

    /// Decimals in `low...high` (low ≤ high).
    static func decimals(_ low: Decimal, _ high: Decimal) -> String {
        var parts: [String] = []
        let lowNegative = low.negative && low.magnitude != .zero
        let highNegative = high.negative && high.magnitude != .zero
        if !highNegative { parts.append(magnitudes(lowNegative ? .zero : low.magnitude, high.magnitude)) }
        if lowNegative {
            let smallest = highNegative ? high.magnitude : .zero
            parts.append("\"-\" " + magnitudes(smallest, low.magnitude))
        }
        return alternatives(parts)
    }
}
