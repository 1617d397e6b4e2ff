/// JSON text written by hand for the answer sent on every recommend request: Foundation's
/// JSONSerialization took about 260 µs for a ten-item answer on a 2-core EPYC (more than scoring
/// the model), and 120 µs more once every item carried its propensity; this takes a few µs.
enum JSONText {
    /// `text` as a JSON string: quoted, with quotes, backslashes and control characters escaped.
    static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
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
    static func number(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }

    /// An object of already-written values, keys in order.
    static func object(_ fields: [(key: String, value: String)]) -> String {
        "{" + fields.map { string($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
    }
}
