/// JSON text written by hand, where DRLRec writes JSON: safetensors headers, the server's answers,
/// the tool's `--json` lines. One escaping for all of them, byte for byte what serde_json (Python's
/// safetensors) writes, so that a header round-trips with the reference implementation.
public enum JSONText {
    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped, the
    /// rest as UTF-8.
    public static func string(_ text: String) -> String {
        var out: [UInt8] = []
        appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `string(text)`'s UTF-8 bytes to `out`, byte by byte: only ASCII is ever escaped,
    /// so the bytes of other scalars pass through as they are.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        func escaped(_ letter: Unicode.Scalar) { out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: letter)) }
        func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10 }
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): escaped("\"")
            case UInt8(ascii: "\\"): escaped("\\")
            case 0x0A: escaped("n")
            case 0x0D: escaped("r")
            case 0x09: escaped("t")
            case 0x08: escaped("b")
            case 0x0C: escaped("f")
            case ..<0x20:
                escaped("u")
                out.append(UInt8(ascii: "0")); out.append(UInt8(ascii: "0"))
                out.append(hexDigit(byte >> 4)); out.append(hexDigit(byte & 15))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A finite number in its shortest round-trip form; null for NaN and infinities, which JSON
    /// cannot hold.
    public static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }

    /// Appends `number(value)`'s bytes to `out`.
    public static func appendNumber(_ value: Double, to out: inout [UInt8]) { out += number(value).utf8 }
}
