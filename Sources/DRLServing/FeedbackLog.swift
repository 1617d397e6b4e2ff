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
    /// The served list the feedback answers, when the client named it.
    public var served: LoggedInteractions.Served?

    public init(user: String, item: String, timestamp: Int64, event: FeedbackKind, value: Float = 1, context: [Float] = [],
                served: LoggedInteractions.Served? = nil) {
        (self.user, self.item, self.timestamp, self.event, self.value, self.context) = (user, item, timestamp, event, value, context)
        self.served = served
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

    /// The header of a new log: the served-list columns name the list a piece of feedback answers.
    public static func header(contextColumns: [String]) -> String {
        (["user", "item", "timestamp", "event", "value", "propensity"] + LoggedInteractions.servedColumns + contextColumns)
            .joined(separator: ",") + "\n"
    }

    /// The header of a log written before feedback could name its list; such a log is kept as it
    /// is, and feedback is written to it without its list.
    public static func headerWithoutServedColumns(contextColumns: [String]) -> String {
        (["user", "item", "timestamp", "event", "value", "propensity"] + contextColumns).joined(separator: ",") + "\n"
    }

    /// Whether the log keeps the list each piece of feedback answers (false for an earlier log).
    public let keepsServedLists: Bool

    /// Opens the log at `path`, creating it with its header when missing. An existing log must
    /// have that header or the earlier one without the served-list columns.
    public init(path: String, contextColumns: [String]) throws(Failure) {
        self.contextColumns = contextColumns
        log = try AppendOnlyLog(path: path, name: "feedback log", header: Self.header(contextColumns: contextColumns),
                                earlierHeaders: [Self.headerWithoutServedColumns(contextColumns: contextColumns)])
        keepsServedLists = log.header == Self.header(contextColumns: contextColumns)
    }

    /// Appends the event and returns once it is on disk.
    public func append(_ event: FeedbackEvent) async throws { try await log.append(Self.line(event, withServed: keepsServedLists)) }

    /// Stops the commit thread after the events already appended are written.
    public func shutDown() { log.shutDown() }

    static func line(_ e: FeedbackEvent, withServed: Bool) -> [UInt8] {
        let quoted = LoggedInteractions.csvField
        var fields = [quoted(e.user), quoted(e.item), String(e.timestamp), e.event.name, "\(e.value)", ""]
        if withServed {
            fields += e.served.map { [quoted($0.impression), String($0.position), quoted($0.version), quoted($0.arm)] } ?? ["", "", "", ""]
        }
        fields += e.context.map { "\($0)" }
        return Array((fields.joined(separator: ",") + "\n").utf8)
    }
}
