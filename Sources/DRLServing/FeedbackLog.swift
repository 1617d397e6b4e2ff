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
    /// Why an append did not reach the disk.
    public typealias Failure = AppendOnlyLog.Failure
    public let contextColumns: [String]
    private let log: AppendOnlyLog

    public var path: String { log.path }

    /// The header of a new log: the served-list columns name the list a piece of feedback answers.
    public static func header(contextColumns: [String]) -> String {
        LoggedInteractions.csvHeader(servedColumns: true, contextColumns: contextColumns) + "\n"
    }

    /// The header of a log written before feedback could name its list; such a log is kept as it
    /// is, and feedback is written to it without its list.
    public static func headerWithoutServedColumns(contextColumns: [String]) -> String {
        LoggedInteractions.csvHeader(servedColumns: false, contextColumns: contextColumns) + "\n"
    }

    /// Whether the log keeps the list each piece of feedback answers (false for an earlier log).
    public let keepsServedLists: Bool

    /// Opens the log at `path`, creating it with its header when missing. An existing log must
    /// have that header or the earlier one without the served-list columns.
    public init(path: String, contextColumns: [String], durability: AppendOnlyLog.Durability = .synced) throws(Failure) {
        self.contextColumns = contextColumns
        log = try AppendOnlyLog(path: path, name: "feedback log", header: Self.header(contextColumns: contextColumns),
                                earlierHeaders: [Self.headerWithoutServedColumns(contextColumns: contextColumns)], durability: durability)
        keepsServedLists = log.header == Self.header(contextColumns: contextColumns)
    }

    /// Appends the event and returns once it is as durable as the log's `AppendOnlyLog.Durability` says.
    public func append(_ event: FeedbackEvent) async throws { try await log.append(Self.line(event, withServed: keepsServedLists)) }

    /// Stops the commit thread after the events already appended are written.
    public func shutDown() { log.shutDown() }

    /// The file's size and the lines appended since it was opened (see `AppendOnlyLog.end`).
    public var end: (bytes: Int, appendedLines: Int) { log.end }

    /// The log's row for an event (with the served-list columns when `withServed`).
    public static func line(_ e: FeedbackEvent, withServed: Bool) -> [UInt8] {
        let row = LoggedInteractions.csvRow(user: e.user, item: e.item, timestamp: e.timestamp, event: e.event, value: e.value,
                                            propensity: .nan, served: e.served, servedColumns: withServed, context: e.context)
        return Array((row + "\n").utf8)
    }
}
