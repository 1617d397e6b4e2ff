/// A JSON document (RFC 8259) parsed from bytes into a `JSONValue`: the server's request bodies, and
/// the checkpoint headers and settings files, which are checked with it before they are decoded.
/// Written by hand: Foundation's JSONDecoder took 7% of the server's time under load with the
/// ranker (more than the impression log), for bodies of a few hundred bytes; and it, like
/// JSONSerialization, keeps the last of two equal keys without a word. Strict, as a body a client
/// (or a file an attacker) writes may be hostile: valid UTF-8 only, no control characters in strings, no lone surrogates, no
/// duplicate keys, no trailing content, at most `maximumDepth` nested arrays and objects (a deep
/// body must not exhaust the stack). Errors name what was found and the byte offset.
public struct JSONParser {
    /// Why the text is not JSON the parser takes, with the byte offset where it found out.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static let maximumDepth = 64

    private let bytes: [UInt8]
    private var offset = 0

    public static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.unexpected("after the value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard offset < bytes.count else { throw Failure(description: "the body ends where a value should be (byte \(offset))") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw unexpected("where a value should be")
        }
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        try checkDepth(depth)
        offset += 1
        var fields: [String: JSONValue] = [:]
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") { offset += 1; return .object(fields) }
        while true {
            skipWhitespace()
            guard try peek() == UInt8(ascii: "\"") else { throw unexpected("where a field name should be") }
            let start = offset
            let key = try string()
            skipWhitespace()
            guard try peek() == UInt8(ascii: ":") else { throw unexpected("after the field name '\(key)'") }
            offset += 1
            skipWhitespace()
            guard fields.updateValue(try value(depth: depth), forKey: key) == nil else {
                throw Failure(description: "the field '\(key)' appears twice (the second at byte \(start))")
            }
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"): offset += 1; return .object(fields)
            default: throw unexpected("in an object, where ',' or '}' should be")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        try checkDepth(depth)
        offset += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") { offset += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth))
            skipWhitespace()
            switch try peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"): offset += 1; return .array(items)
            default: throw unexpected("in an array, where ',' or ']' should be")
            }
        }
    }

    /// A string literal starting at the opening quote: escapes decoded, the rest checked as UTF-8.
    private mutating func string() throws(Failure) -> String {
        let start = offset
        offset += 1
        var text: [UInt8] = []
        var runStart = offset
        while true {
            guard offset < bytes.count else { throw Failure(description: "a string starting at byte \(start) is not closed") }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw Failure(description: "a control character (\(byte)) in a string at byte \(offset); it must be escaped") }
            if byte != UInt8(ascii: "\\") { offset += 1; continue }
            text += bytes[runStart..<offset]
            offset += 1
            guard offset < bytes.count else { throw Failure(description: "a string starting at byte \(start) is not closed") }
            let escaped = bytes[offset]
            offset += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"): text += try unicodeEscape()
            default: throw Failure(description: "an invalid escape '\\\(Character(Unicode.Scalar(escaped)))' at byte \(offset - 2)")
            }
            runStart = offset
        }
        text += bytes[runStart..<offset]
        offset += 1
        guard let decoded = String(validating: text, as: UTF8.self) else {
            throw Failure(description: "the string starting at byte \(start) is not valid UTF-8")
        }
        return decoded
    }

    /// The character of a \u escape (after the "\u"), a surrogate pair as one: its UTF-8 bytes.
    private mutating func unicodeEscape() throws(Failure) -> [UInt8] {
        let at = offset - 2
        var value = try hex4()
        if (0xD800...0xDBFF).contains(value) {
            guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                throw Failure(description: "a lone surrogate \\u\(String(value, radix: 16)) at byte \(at)")
            }
            offset += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw Failure(description: "a lone surrogate \\u\(String(value, radix: 16)) at byte \(at)") }
            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(value) {
            throw Failure(description: "a lone surrogate \\u\(String(value, radix: 16)) at byte \(at)")
        }
        return Array(String(Character(Unicode.Scalar(value)!)).utf8)
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw Failure(description: "a \\u escape at byte \(offset - 2) needs four hex digits") }
        var value: UInt32 = 0
        for byte in bytes[offset..<(offset + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Failure(description: "a \\u escape at byte \(offset - 2) needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
        }
        offset += 4
        return value
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, converted to the nearest Double; a number past
    /// Double's range is refused.
    private mutating func number() throws(Failure) -> Double {
        let start = offset
        func digits() -> Int {
            let first = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            return offset - first
        }
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        let whole = offset
        guard digits() > 0 else { throw invalidNumber(start) }
        if bytes[whole] == UInt8(ascii: "0") && offset - whole > 1 {
            throw Failure(description: "a number with a leading zero '\(String(decoding: bytes[start..<offset], as: UTF8.self))' at byte \(start)")
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw invalidNumber(start) }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw invalidNumber(start) }
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        guard let value = Double(text) else { throw invalidNumber(start) }
        guard value.isFinite else { throw Failure(description: "the number '\(text)' at byte \(start) is out of range") }
        return value
    }

    private func invalidNumber(_ start: Int) -> Failure {
        let end = min(bytes.count, offset + 1)
        return Failure(description: "an invalid number '\(String(decoding: bytes[start..<end], as: UTF8.self))' at byte \(start)")
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count, bytes[offset..<(offset + count)].elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count)) else {
            throw unexpected("where a value should be")
        }
        offset += count
    }

    private func checkDepth(_ depth: Int) throws(Failure) {
        guard depth <= Self.maximumDepth else {
            throw Failure(description: "arrays and objects are nested more than \(Self.maximumDepth) deep at byte \(offset)")
        }
    }

    private func peek() throws(Failure) -> UInt8 {
        guard offset < bytes.count else { throw Failure(description: "the body ends early (byte \(offset))") }
        return bytes[offset]
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private func unexpected(_ place: String) -> Failure {
        guard offset < bytes.count else { return Failure(description: "the body ends early (byte \(offset))") }
        let byte = bytes[offset]
        let shown = (0x20..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return Failure(description: "unexpected \(shown) at byte \(offset) \(place)")
    }
}
