/// JSON text written by hand, where DRLRec writes JSON: safetensors headers, the server's answers,
/// the tool's `--json` lines. One escaping for all of them, byte for byte what serde_json (Python's
/// safetensors) writes, so that a header round-trips with the reference implementation.
public enum JSONText {
    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped, the
    /// rest as UTF-8.
    public static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{8}": out += "\\b"
            case "\u{C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// A finite number in its shortest round-trip form; null for NaN and infinities, which JSON
    /// cannot hold.
    public static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
}
