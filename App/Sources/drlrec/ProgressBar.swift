import Foundation

/// The progress of a long command. On a terminal, a bar on standard error rewritten in place,
/// with the rate and the time left; elsewhere (a pipe, a log file) a plain line on standard error
/// at each tenth of the way; with --json, the same events as JSON lines on standard output; with
/// --quiet, nothing. Drawing is throttled, so `update` may be called on every step.
final class ProgressBar {
    enum Mode {
        case terminal, lines, json, silent

        /// The mode for a command's --json and --quiet, on this process's standard error.
        static func of(json: Bool, quiet: Bool) -> Mode {
            quiet ? .silent : json ? .json : isatty(STDERR_FILENO) != 0 ? .terminal : .lines
        }
    }

    private let label: String, unit: String, total: Int, mode: Mode
    /// Where this run started (a resumed run's earlier steps): the rate and the time left count
    /// this run only.
    var first: Int
    private let start = Date()
    private var lastDraw = Date.distantPast, lastTenth = 0, shown = false

    init(_ label: String, unit: String, total: Int, first: Int = 0, mode: Mode) {
        (self.label, self.unit, self.total, self.first, self.mode) = (label, unit, max(total, 1), first, mode)
    }

    func update(_ done: Int) {
        switch mode {
        case .silent: return
        case .terminal:
            let now = Date()
            guard done >= total || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + bar(done)).utf8))
            shown = true
        case .lines, .json:
            let tenth = min(10, 10 * done / total)
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            if mode == .lines {
                say(summary(done))
            } else {
                let (rate, left) = pace(done)
                print(JSONLine([("event", .string("progress")), ("task", .string(label)), ("done", .int(done)), ("total", .int(total)),
                                ("unit", .string(unit)), ("per_second", .double(rate < 10 ? (rate * 100).rounded() / 100 : rate.rounded())),
                                ("seconds_left", left.map { .double($0.rounded()) } ?? .null)]).text)
            }
        }
    }

    /// Takes the bar off the terminal's line, so that a line can be printed; the next update
    /// draws it again below.
    func clear() {
        guard mode == .terminal, shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }

    /// A progress line on standard error, above the bar on a terminal; nothing with --quiet.
    func note(_ line: String) {
        guard mode != .silent else { return }
        clear()
        say(line)
    }

    /// Ends the bar's line on a terminal.
    func finish() {
        guard mode == .terminal, shown else { return }
        FileHandle.standardError.write(Data("\n".utf8))
        shown = false
    }

    /// Items per second over this run, and the seconds left at that rate (nil before any).
    private func pace(_ done: Int) -> (rate: Double, left: Double?) {
        let elapsed = Date().timeIntervalSince(start), made = Double(done - first)
        guard elapsed > 0, made > 0 else { return (0, nil) }
        let rate = made / elapsed
        return (rate, Double(max(total - done, 0)) / rate)
    }

    private func summary(_ done: Int) -> String {
        let (rate, left) = pace(done)
        return "\(label): \(count(done))/\(count(total)) \(unit) (\(100 * done / total)%), \(rate < 10 ? String(format: "%.2g", rate) : count(Int(rate.rounded())))/s"
            + (left.map { ", \(duration($0)) left" } ?? "")
    }

    private func bar(_ done: Int) -> String {
        let width = 30, filled = min(width, width * done / total)
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] " + summary(done)
    }

    private func count(_ n: Int) -> String { n.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US"))) }

    private func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3_600 ? String(format: "%d:%02d:%02d", s / 3_600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
