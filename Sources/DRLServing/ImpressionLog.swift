import DRLData
import DRLTensor
import Foundation

/// A served list as the impression log keeps it: who was shown what, when, by which version and
/// arm, in which context, and at each position the item and the probability the serving policy
/// had of putting it there.
public struct Impression: Sendable, Equatable {
    /// The list's identifier; feedback on one of its items can name it.
    public var id: String
    public var user: String
    /// Seconds since the epoch.
    public var timestamp: Int64
    /// The version that ranked the list, or "popularity" when the fallback did.
    public var version: String
    public var arm: TrafficSplit.Arm
    /// One value per context column.
    public var context: [Float]
    /// Best first.
    public var items: [(id: String, propensity: Double)]

    public init(id: String, user: String, timestamp: Int64, version: String, arm: TrafficSplit.Arm, context: [Float],
                items: [(id: String, propensity: Double)]) {
        (self.id, self.user, self.timestamp, self.version, self.arm, self.context, self.items) = (id, user, timestamp, version, arm, context, items)
    }

    public static func == (a: Impression, b: Impression) -> Bool {
        a.id == b.id && a.user == b.user && a.timestamp == b.timestamp && a.version == b.version && a.arm == b.arm && a.context == b.context
            && a.items.map(\.id) == b.items.map(\.id) && a.items.map(\.propensity) == b.items.map(\.propensity)
    }
}

/// The impression log: every served list, on disk before the answer leaves, in DRLRec's
/// logged-interactions format with the served-list columns: one `impression` row per position,
/// its propensity in the `propensity` column, so that `LoggedInteractions.read` gives off-policy
/// learning and evaluation the lists with their propensities.
public final class ImpressionLog: Sendable {
    /// Why an append did not reach the disk.
    public typealias Failure = AppendOnlyLog.Failure
    public let contextColumns: [String]
    private let log: AppendOnlyLog

    public var path: String { log.path }

    public static func header(contextColumns: [String]) -> String {
        LoggedInteractions.csvHeader(servedColumns: true, contextColumns: contextColumns) + "\n"
    }

    /// Opens the log at `path`, creating it with its header when missing. An existing log must
    /// have the same header.
    public init(path: String, contextColumns: [String], durability: AppendOnlyLog.Durability = .synced) throws(Failure) {
        self.contextColumns = contextColumns
        log = try AppendOnlyLog(path: path, name: "impression log", header: Self.header(contextColumns: contextColumns), durability: durability)
    }

    /// Appends the list and returns once it is as durable as the log's `AppendOnlyLog.Durability` says.
    public func append(_ impression: Impression) async throws {
        require(impression.context.count == contextColumns.count,
                "ImpressionLog: \(impression.context.count) context values for the columns \(contextColumns)")
        try await log.append(Self.lines(impression))
    }

    /// Stops the commit thread after the lists already appended are written.
    public func shutDown() { log.shutDown() }

    /// The file's size and the lines appended since it was opened (see `AppendOnlyLog.end`).
    public var end: (bytes: Int, appendedLines: Int) { log.end }

    /// Whether the file holds lists beyond its header (a restart's log).
    public var holdsLists: Bool { log.end.bytes > log.header.utf8.count }

    /// The log's rows for a list: one per position; the propensity is written as the format reads
    /// it, a Float. Each row is `LoggedInteractions.csvRow`'s to the byte; what the rows share
    /// (the user, the time, the list's columns, the context) is formatted once per list, not once
    /// per row: formatting was most of an impression's logging.
    public static func lines(_ impression: Impression) -> [UInt8] {
        let comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n")
        let user = Array(LoggedInteractions.csvField(impression.user).utf8)
        let afterItem = Array(",\(impression.timestamp),\(FeedbackKind.impression.name),\(Float(1)),".utf8)
        let list = Array(LoggedInteractions.csvField(impression.id).utf8)
        var tail = Array(",\(LoggedInteractions.csvField(impression.version)),\(LoggedInteractions.csvField(impression.arm.rawValue))".utf8)
        for value in impression.context { tail.append(comma); tail += "\(value)".utf8 }
        tail.append(newline)
        var out: [UInt8] = []
        out.reserveCapacity(impression.items.count * (user.count + afterItem.count + list.count + tail.count + 32))
        for (position, item) in impression.items.enumerated() {
            out += user
            out.append(comma)
            out += LoggedInteractions.csvField(item.id).utf8
            out += afterItem
            let propensity = Float(item.propensity)
            if !propensity.isNaN { out += "\(propensity)".utf8 }
            out.append(comma)
            out += list
            out.append(comma)
            out += String(position + 1).utf8
            out += tail
        }
        return out
    }
}
