import Foundation

/// One self-contained HTML page of a command's results: inline SVG charts, tables, and the command
/// and configuration that made them. No script, no style sheet or font from elsewhere, no
/// network: the page reads the same from a file, in a mail or in an archive years later.
public struct HTMLReport {
    /// A part of the page, in order.
    public enum Block {
        case heading(String)
        case paragraph(String)
        case chart(any ReportChart)
        /// A table: the header, then the rows.
        case table([String], [[String]])
        /// Preformatted text under a caption (a command line, a configuration file).
        case code(caption: String, text: String)
    }

    public var title: String
    public var blocks: [Block] = []

    public init(title: String) { self.title = title }

    /// The ids of the charts the page holds, in order.
    public var chartIds: [String] {
        blocks.compactMap { if case .chart(let chart) = $0 { chart.id } else { nil } }
    }

    public func html() -> String {
        var body = "<h1>\(SVGText.escaped(title))</h1>\n"
        for block in blocks {
            switch block {
            case .heading(let text): body += "<h2>\(SVGText.escaped(text))</h2>\n"
            case .paragraph(let text): body += "<p>\(SVGText.escaped(text))</p>\n"
            case .chart(let chart):
                body += "<figure id=\"\(SVGText.escaped(chart.id))\">\(chart.svg())<figcaption>\(SVGText.escaped(chart.title))</figcaption></figure>\n"
            case .table(let header, let rows):
                body += "<table><thead><tr>" + header.map { "<th>\(SVGText.escaped($0))</th>" }.joined() + "</tr></thead><tbody>"
                // Figures align right, words left.
                for row in rows {
                    body += "<tr>" + row.map { cell in
                        let figure = cell.first.map { "0123456789+-−–.[".contains($0) } ?? true
                        return (figure ? "<td>" : "<td class=\"text\">") + SVGText.escaped(cell) + "</td>"
                    }.joined() + "</tr>"
                }
                body += "</tbody></table>\n"
            case .code(let caption, let text):
                body += "<p class=\"caption\">\(SVGText.escaped(caption))</p><pre>\(SVGText.escaped(text))</pre>\n"
            }
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(SVGText.escaped(title))</title>
            <style>
            body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 980px; margin: 24px auto; padding: 0 16px; color: #222; }
            h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
            figure { margin: 12px 0 20px; } figcaption { font-size: 13px; color: #555; }
            svg { max-width: 100%; height: auto; font-family: inherit; }
            table { border-collapse: collapse; font-size: 13px; } th, td { border-bottom: 1px solid #ddd; padding: 3px 10px; text-align: right; }
            th:first-child, td:first-child, td.text { text-align: left; }
            pre { background: #f6f6f6; padding: 8px 10px; overflow-x: auto; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
            .caption { font-size: 13px; color: #555; margin-bottom: 2px; }
            </style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    /// Writes the page to `path`, replacing it atomically.
    public func write(to path: String) throws {
        try Data(html().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The charts of `expected` that the page `html` does not hold (by their `data-chart`).
    public static func missingCharts(in html: String, expected: [String]) -> [String] {
        expected.filter { !html.contains("data-chart=\"\(SVGText.escaped($0))\"") }
    }
}
