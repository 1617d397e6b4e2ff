import DRLData
import DRLNN
import Foundation

/// One JSON object on one line, with its keys in the order given (for `--json` output).
struct JSONLine {
    enum Value {
        case string(String), int(Int), double(Double), float(Float), bool(Bool), null

        var text: String {
            switch self {
            case .string(let s): return JSONText.string(s)
            case .int(let i): return String(i)
            case .double(let d): return JSONText.number(d)
            case .float(let f): return f.isFinite ? String(f) : "null"  // Float's shortest digits, not Double's widening
            case .bool(let b): return b ? "true" : "false"
            case .null: return "null"
            }
        }
    }

    let fields: [(String, Value)]
    init(_ fields: [(String, Value)]) { self.fields = fields }

    var text: String { "{" + fields.map { "\(JSONText.string($0.0)): \($0.1.text)" }.joined(separator: ", ") + "}" }
}

extension JSONLine {
    /// The field names as a CSV header line.
    var csvHeader: String { fields.map { LoggedInteractions.csvField($0.0) }.joined(separator: ",") }

    /// The values as a CSV line (RFC 4180 quoting; null is an empty field).
    var csvRow: String {
        fields.map { field in
            switch field.1 {
            case .null: return ""
            case .string(let s): return LoggedInteractions.csvField(s)
            default: return field.1.text
            }
        }.joined(separator: ",")
    }
}
