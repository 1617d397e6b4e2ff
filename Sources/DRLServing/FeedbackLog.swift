import DRLData

/// One piece of feedback as the server receives it.
public struct FeedbackEvent: Sendable, Equatable {
    public var user: String, item: String
    /// Seconds since the epoch.
    public var timestamp: Int64
    public var event: FeedbackKind
    public var value: Float
    /// One value per context column of the log.
    public var context: [Float]

    public init(user: String, item: String, timestamp: Int64, event: FeedbackKind, value: Float = 1, context: [Float] = []) {
        (self.user, self.item, self.timestamp, self.event, self.value, self.context) = (user, item, timestamp, event, value, context)
    }
}

/// The feedback log: an `AppendOnlyLog` in DRLRec's logged-interactions CSV format (so
/// `LoggedInteractions` and incremental training read it as it is), each event on disk before it
/// is acknowledged.
public final class FeedbackLog: Sendable {
    public typealias Failure = AppendOnlyLog.Failure
    public let contextColumns: [String]
    private let log: AppendOnlyLog

    public var path: String { log.path }

    public static func header(contextColumns: [String]) -> String {
        (["user", "item", "timestamp", "event", "value", "propensity"] + contextColumns).joined(separator: ",") + "\n"
    }

    /// Opens the log at `path`, creating it with its header when missing. An existing log must
    /// have the same header.
    public init(path: String, contextColumns: [String]) throws(Failure) {
        self.contextColumns = contextColumns
        log = try AppendOnlyLog(path: path, name: "feedback log", header: Self.header(contextColumns: contextColumns))
    }

    /// Appends the event and returns once it is on disk.
    public func append(_ event: FeedbackEvent) async throws { try await log.append(Self.line(event)) }

    /// Stops the commit thread after the events already appended are written.
    public func shutDown() { log.shutDown() }

    static func line(_ e: FeedbackEvent) -> [UInt8] {
        let quoted = LoggedInteractions.csvField
        let fields = [quoted(e.user), quoted(e.item), String(e.timestamp), e.event.name, "\(e.value)", ""] + e.context.map { "\($0)" }
        return Array((fields.joined(separator: ",") + "\n").utf8)
    }
}
