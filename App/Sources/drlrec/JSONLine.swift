import Foundation

/// One JSON object on one line, with its keys in the order given (for `--json` output).
struct JSONLine {
    enum Value {
        case string(String), int(Int), double(Double), float(Float), bool(Bool), null

        var text: String {
            switch self {
            case .string(let s): return JSONLine.quote(s)
            case .int(let i): return String(i)
            case .double(let d): return d.isFinite ? String(d) : "null"
            case .float(let f): return f.isFinite ? String(f) : "null"  // Float's shortest digits, not Double's widening
            case .bool(let b): return b ? "true" : "false"
            case .null: return "null"
            }
        }
    }

    let fields: [(String, Value)]
    init(_ fields: [(String, Value)]) { self.fields = fields }

    var text: String { "{" + fields.map { "\(JSONLine.quote($0.0)): \($0.1.text)" }.joined(separator: ", ") + "}" }

    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if ch.value < 0x20 {
                    let hex = String(ch.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(ch)
                }
            }
        }
        return out + "\""
    }
}

extension JSONLine {
    /// The field names as a CSV header line.
    var csvHeader: String { fields.map { JSONLine.csvField($0.0) }.joined(separator: ",") }

    /// The values as a CSV line (RFC 4180 quoting; null is an empty field).
    var csvRow: String {
        fields.map { field in
            switch field.1 {
            case .null: return ""
            case .string(let s): return JSONLine.csvField(s)
            default: return field.1.text
            }
        }.joined(separator: ",")
    }

    private static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
