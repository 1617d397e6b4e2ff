import DRLData
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The side file of a log's unreadable lines (`LOG.quarantine`): a restart leaves a bad line of
/// the feedback or impression log out of its replay instead of refusing to start, and keeps the
/// line there, as it was, for an operator to look at. Each entry is the line's number in the log,
/// a colon, and its bytes; a line already kept is not kept again at the next restart (lines of an
/// append-only log never move).
public enum LogQuarantine {
    public static func path(of log: String) -> String { log + ".quarantine" }

    /// Appends the rows not yet in the side file (durably); returns how many were new.
    @discardableResult
    public static func keep(_ rows: [LoggedInteractions.BadRow], of log: String) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        let side = path(of: log)
        let kept = lineNumbers(in: side)
        var bytes: [UInt8] = []
        for row in rows where !kept.contains(row.line) {
            bytes += Array("\(row.line):".utf8) + row.bytes
            if row.bytes.last != 10 { bytes.append(10) }
        }
        guard !bytes.isEmpty else { return 0 }
        let fd = open(side, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DurableFile.Failure(description: "cannot open '\(side)': \(DurableFile.systemError())") }
        defer { close(fd) }
        try DurableFile.writeAll(fd, bytes, path: side)
        guard fsync(fd) == 0 else { throw DurableFile.Failure(description: "fsync of '\(side)' failed: \(DurableFile.systemError())") }
        if kept.isEmpty { try DurableFile.syncDirectory(of: side) }
        return rows.count { !kept.contains($0.line) }
    }

    /// The log line numbers the side file holds.
    static func lineNumbers(in side: String) -> Set<Int> {
        guard let data = FileManager.default.contents(atPath: side) else { return [] }
        var numbers = Set<Int>()
        for line in data.split(separator: 10) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                  let number = Int(String(decoding: line[line.startIndex..<colon], as: UTF8.self)) else { continue }
            numbers.insert(number)
        }
        return numbers
    }
}
