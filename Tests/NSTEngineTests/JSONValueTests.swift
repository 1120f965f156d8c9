import Foundation
import XCTest
@testable import NSTEngine

/// The engine's own JSON parser, checked against Foundation's `JSONSerialization` (the parser it
/// replaced, an independent implementation) where both accept a document, and on its refusals.
final class JSONValueTests: XCTestCase {
    private func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBytes { try JSONValue.parse($0) }
    }

    private func parse(_ text: String) throws -> JSONValue { try parse(Array(text.utf8)) }

    /// `JSONSerialization`'s result as a `JSONValue` (booleans and numbers both arrive as NSNumber, a
    /// boolean with the Objective-C type code "c").
    private func reference(_ text: String) throws -> JSONValue {
        func convert(_ value: Any) -> JSONValue {
            switch value {
            case is NSNull: return .null
            case let text as String: return .string(text)
            case let array as [Any]: return .array(array.map(convert))
            case let object as [String: Any]: return .object(object.mapValues(convert))
            case let number as NSNumber:
                return String(cString: number.objCType) == "c" ? .bool(number.boolValue) : .number(number.doubleValue)
            default: fatalError("unexpected \(type(of: value))")
            }
        }
        return convert(try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
    }

    func testAgreesWithJSONSerializationOnValidDocuments() throws {
        let documents = [
            #"{"conv1_1.weight":{"dtype":"F32","shape":[64,3,3,3],"data_offsets":[0,6912]}}"#,
            #"{"__metadata__":{"architecture":"vgg19","mean":"103.939,116.779,123.68"}}"#,
            " \t\r\n{ \"a\" : [ 1 , -2.5 , 3e2 , 4E-2 , -0 , 0.125 , 1e+3 ] , \"b\" : { } , \"c\" : [ ] } \n",
            #"[true, false, null, "", "x"]"#,
            #"{"escapes":"\"\\\/\b\f\n\r\t","unicode":"\u00e9\u4e2d\ud83d\ude00","raw":"é中😀"}"#,
            #"{"nul":"\u0000","big":123456789012345678901234567890,"tiny":1e-400}"#,
            "3.25", #""alone""#,
            String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth),
        ]
        for document in documents {
            XCTAssertEqual(try parse(document), try reference(document), document)
        }
    }

    func testRefusesWhatIsNotStrictJSON() {
        let cases: [(String, String)] = [
            ("", "unexpected end of input"),
            ("   ", "unexpected end of input"),
            (#"{"a":1,}"#, "expected a string key"),
            ("[1,]", "unexpected character"),
            ("\u{FEFF}{}", "unexpected character"),
            (#"{"a":1,"a":2}"#, "duplicate key 'a'"),
            ("{\"a\":\"\u{01}\"}", "unescaped control character"),
            (#"{"a":01}"#, "leading zero"),
            (#"{"a":1.}"#, "expected a digit"),
            (#"{"a":.5}"#, "unexpected character"),
            (#"{"a":-}"#, "expected a digit"),
            (#"{"a":1e}"#, "expected a digit"),
            (#"{"a":1e400}"#, "out of range"),
            (#"{"a":NaN}"#, "unexpected character"),
            (#"{"a":tru}"#, "unexpected character"),
            (#"{"a":"\ud800"}"#, "high surrogate"),
            (#"{"a":"\ud800\u0041"}"#, "high surrogate"),
            (#"{"a":"\udc00"}"#, "lone low surrogate"),
            (#"{"a":"\x"}"#, "invalid escape"),
            (#"{"a":"\u12"}"#, "four hexadecimal digits"),
            (#"{"a":"open"#, "unterminated string"),
            (#"{"a" 1}"#, "expected ':'"),
            (#"{"a":1 "b":2}"#, "expected ',' or '}'"),
            ("[1 2]", "expected ',' or ']'"),
            ("{} {}", "unexpected content after the value"),
            ("{}\u{0}", "unexpected content after the value"),
            (String(repeating: "[", count: JSONValue.maximumDepth + 1), "nested deeper than 64"),
        ]
        for (document, fragment) in cases {
            do {
                let value = try parse(document)
                XCTFail("\(document.debugDescription) parsed as \(value)")
            } catch let error as JSONValue.SyntaxError {
                XCTAssertTrue(error.message.contains(fragment), "\(document.debugDescription): '\(error.message)' lacks '\(fragment)'")
            } catch {
                XCTFail("\(document.debugDescription): unexpected \(error)")
            }
        }
    }

    func testRefusesInvalidUTF8AndReportsWhere() {
        let bytes: [UInt8] = Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        XCTAssertThrowsError(try parse(bytes)) {
            XCTAssertEqual($0 as? JSONValue.SyntaxError, JSONValue.SyntaxError(message: "string is not valid UTF-8", offset: 5))
        }
    }

    func testAHugeNestingIsRefusedWithoutExhaustingTheStack() {
        let depth = 1_000_000
        XCTAssertThrowsError(try parse(String(repeating: "[", count: depth) + String(repeating: "]", count: depth)))
    }

    func testEncodingSortsKeysEscapesAndRoundTrips() throws {
        let value = JSONValue.object([
            "b": .array([.number(3), .number(-0.5), .number(1e300), .bool(true), .null]),
            "a": .string("quote \" backslash \\ newline \n tab \t bell \u{07} é 😀"),
        ])
        XCTAssertEqual(value.encoded,
                       #"{"a":"quote \" backslash \\ newline \n tab \t bell \u0007 é 😀","b":[3,-0.5,1e+300,true,null]}"#)
        XCTAssertEqual(try parse(value.encoded), value)
        XCTAssertEqual(try reference(value.encoded), value)
        XCTAssertEqual(JSONValue.number(.nan).encoded, "null")
    }
}
