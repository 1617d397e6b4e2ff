import Foundation

/// Text for HTML and SVG: escaped, and numbers in the few digits a chart's labels need.
enum SVGText {
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A coordinate with two decimals: enough for a screen, and the same text on every machine.
    static func coordinate(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded)
    }

    /// A tick or value label: a whole number in full with thousands separated ("40,000"), others
    /// in at most four significant digits.
    static func label(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        if value == 0 { return "0" }
        if value.rounded() == value && abs(value) < 1e12 {
            let digits = String(Int64(abs(value)))
            var grouped = ""
            for (k, digit) in digits.enumerated() {
                if k > 0 && (digits.count - k) % 3 == 0 { grouped += "," }
                grouped.append(digit)
            }
            return (value < 0 ? "−" : "") + grouped
        }
        return String(format: "%.4g", value).replacingOccurrences(of: "-", with: "−")
    }

    /// Round tick values covering [low, high]: 4 to 8 steps of 1, 2 or 5 times a power of ten.
    static func ticks(_ low: Double, _ high: Double) -> [Double] {
        guard low.isFinite, high.isFinite else { return [] }
        let (lo, hi) = low == high ? (low - 1, high + 1) : (min(low, high), max(low, high))
        let rough = (hi - lo) / 5
        let power = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { (hi - lo) / $0 <= 8 } ?? 10 * power
        var ticks: [Double] = []
        var tick = (lo / step).rounded(.down) * step
        // From the last tick at or below `lo` to the first at or above `hi`.
        while true {
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            if tick >= hi - step * 1e-9 { return ticks }
            tick += step
        }
    }
}
