import Foundation
import Testing
import DRLNN

@Suite struct JSONParserTests {
    /// The value Foundation's JSONDecoder (an independent parser) reads from the same text.
    func reference(_ text: String) -> JSONValue? { (try? JSONDecoder().decode(Reference.self, from: Data(text.utf8)))?.value }

    struct Reference: Decodable {
        let value: JSONValue
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() { value = .null }
            else if let flag = try? container.decode(Bool.self) { value = .bool(flag) }
            else if let number = try? container.decode(Double.self) { value = .number(number) }
            else if let text = try? container.decode(String.self) { value = .string(text) }
            else if let items = try? container.decode([Reference].self) { value = .array(items.map(\.value)) }
            else { value = .object(try container.decode([String: Reference].self).mapValues(\.value)) }
        }
    }

    static let documents = [
        #"{"user_id": "u7", "k": 10, "context": {"device": 2, "hour": 13.5, "segment": 0}}"#,
        #"  [1, -2, 3.25, -0.5e-3, 6E+2, 0, 1e10, 12345678901234567890]  "#,
        #"{"a": [], "b": {}, "c": [[], [{}]], "d": null, "e": true, "f": false}"#,
        #"{"s": "quote \" slash \/ back \\ tab \t nl \n cr \r bs \b ff \f"}"#,
        #"{"u": "\u00e9\u4e2d\ud83d\ude00", "raw": "é中😀", "nul": "a\u0000b"}"#,
        #""just a string""#,
        "-0",
        "\t\n\r {\"deep\": [[[[[[[[[[1]]]]]]]]]]}\n",
    ]

    @Test(arguments: documents)
    func validDocumentsReadAsAnIndependentParserReadsThem(text: String) throws {
        let parsed = try JSONParser.parse(Array(text.utf8))
        #expect(parsed == reference(text), "\(text)")
    }

    static let invalid: [(text: String, mentions: String)] = [
        ("", "ends where a value should be"),
        ("   ", "ends where a value should be"),
        (#"{"a": 1,}"#, "where a field name should be"),
        ("[1, 2,]", "where a value should be"),
        ("[1 2]", "where ',' or ']' should be"),
        (#"{"a" 1}"#, "after the field name 'a'"),
        (#"{"a": 1} x"#, "after the value"),
        ("01", "leading zero '01'"),
        ("[-01]", "leading zero '-01' at byte 1"),
        ("[1e400]", "'1e400' at byte 1 is out of range"),
        ("1.", "invalid number '1.'"),
        (".5", "where a value should be"),
        ("+1", "where a value should be"),
        ("-", "invalid number '-'"),
        ("1e", "invalid number '1e'"),
        ("NaN", "where a value should be"),
        ("Infinity", "where a value should be"),
        ("tru", "where a value should be"),
        (#""open"#, "is not closed"),
        ("\"tab\there\"", "control character"),
        (#""\x41""#, #"invalid escape '\x'"#),
        (#""\u12g4""#, "four hex digits"),
        (#""\ud800""#, "lone surrogate"),
        (#""\udc00x""#, "lone surrogate"),
        (#""\ud800\u0041""#, "lone surrogate"),
        (#"{"k": 1, "k": 2}"#, "'k' appears twice"),
        (String(repeating: "[", count: 65) + String(repeating: "]", count: 65), "nested more than 64"),
    ]

    @Test(arguments: invalid)
    func invalidDocumentsAreRefusedWithWhereAndWhat(text: String, mentions: String) {
        do {
            let value = try JSONParser.parse(Array(text.utf8))
            Issue.record("\(text) was accepted as \(value)")
        } catch {
            #expect(error.description.contains(mentions), "\(text): \(error.description)")
        }
    }

    @Test func invalidUTF8AndDepthLimits() throws {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC3, 0x22]) }
        let deepest = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONParser.parse(Array(deepest.utf8))
        // A body of a million brackets is refused, not a crash.
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)) }
    }

    /// Every document with one byte replaced, inserted or removed: never a crash, and whatever this
    /// parser accepts the independent one reads the same (this one is the stricter one: where they
    /// differ, as on duplicate keys or deep nesting, it is this one that refuses).
    @Test func mutatedDocumentsNeverCrashAndAgreeWhenAccepted() {
        let alphabet = Array(#"{}[]",:019.-+eEtrufalsn \u"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xFF]
        var accepted = 0, tried = 0
        for document in Self.documents {
            let bytes = Array(document.utf8)
            var mutations: [[UInt8]] = []
            for at in bytes.indices {
                var removed = bytes
                removed.remove(at: at)
                mutations.append(removed)
                for byte in alphabet {
                    var replaced = bytes, inserted = bytes
                    replaced[at] = byte
                    inserted.insert(byte, at: at)
                    mutations += [replaced, inserted]
                }
            }
            for mutated in mutations {
                tried += 1
                guard let ours = try? JSONParser.parse(mutated) else { continue }
                accepted += 1
                let text = String(decoding: mutated, as: UTF8.self)
                // JSONDecoder refuses a valid negative zero with an exponent ("-0.0e-3", which
                // JSONSerialization reads): there the second independent parser judges.
                let agreed = ours == reference(text)
                    || (reference(text) == nil && (try? JSONSerialization.jsonObject(with: Data(mutated), options: [.fragmentsAllowed])) != nil)
                #expect(agreed, "\(text)")
            }
        }
        #expect(tried > 20_000 && accepted > 1_000, "\(accepted) of \(tried) accepted")
    }
}
