/// A JSON value (RFC 8259), as a safetensors header holds them.
///
/// The engine parses its headers itself rather than with Foundation's `JSONSerialization`, so that the
/// library links without Foundation (whose static form, with ICU, is about 55 MB; see setup.py). The
/// parser is strict where `JSONSerialization` was lax: no trailing commas, no byte-order mark, no
/// duplicate keys (the Python reader refuses them too); and it bounds the nesting depth, so no header
/// can exhaust the stack.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Deepest nesting of arrays and objects accepted; a safetensors header needs 3.
    public static let maximumDepth = 64

    /// Why `parse` refused its input: what was wrong and the byte offset where it was found.
    public struct SyntaxError: Error, Equatable {
        public let message: String
        public let offset: Int
    }

    /// The value that `bytes` (UTF-8) hold, surrounded by nothing but whitespace.
    /// - Throws: `SyntaxError` for anything that is not exactly one JSON value.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONValue {
        var parser = JSONParser(bytes)
        return try parser.parseDocument()
    }

    /// The compact JSON text of this value, object keys sorted (integral numbers without a fraction).
    public var encoded: String {
        var text = ""
        encode(into: &text)
        return text
    }

    private func encode(into text: inout String) {
        switch self {
        case .null:
            text += "null"
        case .bool(let value):
            text += value ? "true" : "false"
        case .number(let value):
            text += Self.numberText(value)
        case .string(let value):
            Self.encode(string: value, into: &text)
        case .array(let elements):
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                element.encode(into: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                Self.encode(string: key, into: &text)
                text += ":"
                members[key]!.encode(into: &text)
            }
            text += "}"
        }
    }

    /// Integers (below 2^53 in magnitude, so exact) without a fraction; other finite numbers in Swift's
    /// shortest round-trip form, which is valid JSON; JSON has no NaN or infinity, so those are `null`.
    private static func numberText(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(), abs(value) < 9.007_199_254_740_992e15 { return String(Int64(value)) }
        return String(value)
    }

    private static func encode(string: String, into text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
