import DRLNN
import DRLRequestDecoding

/// A request body. The JSON parser and both routes' decoders see every input. A body the parser
/// accepts, written out again by `JSONText` (the writer of the server's answers and the checkpoint
/// headers), must parse back to the same value.
enum RequestsTarget {
    static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
        guard let value = try? JSONParser.parse(input) else { return false }
        let text = write(value)
        guard let again = try? JSONParser.parse(Array(text.utf8)) else { throw FuzzFailure("the value written back is refused: \(text)") }
        guard again == value else { throw FuzzFailure("the value written back parses to another value: \(text)") }
        let recommend = try? RequestBodies.recommend(input), feedback = try? RequestBodies.feedback(input)
        return recommend != nil || feedback != nil
    }

    private static func write(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number): JSONText.number(number)
        case .string(let text): JSONText.string(text)
        case .array(let items): "[" + items.map(write).joined(separator: ",") + "]"
        case .object(let fields): "{" + fields.map { JSONText.string($0.key) + ":" + write($0.value) }.joined(separator: ",") + "}"
        }
    }
}
