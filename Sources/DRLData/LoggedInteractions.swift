import DRLTensor

/// What is wrong with a data file, and where: the file, the 1-based line and, when one is to
/// blame, the column.
public struct DataFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let line: Int
    public let column: String?
    public let message: String

    public init(file: String, line: Int, column: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        "\(file):\(line)" + (column.map { ": column '\($0)'" } ?? "") + ": \(message)"
    }
}

/// DRLRec's own format of logged interactions, and a dataset of them in columns.
///
/// The file is CSV (RFC 4180 quoting, one record per line) whose first line names the columns:
/// - `user`, `item` (required): identifiers, any text;
/// - `timestamp` (required): seconds, an integer;
/// - `event` (required): a `FeedbackKind` name (`click`, `view`, `add_to_cart`, `purchase`,
///   `rating`, …);
/// - `value` (optional): the event's value, a number (the rating for `rating`, the fraction
///   watched for `view`); empty or absent means 1;
/// - `propensity` (optional): the probability with which the logging policy showed the item, in
///   (0, 1]; empty or absent means unknown;
/// - `impression`, `position`, `version`, `arm` (optional, together): the served list the row
///   belongs to (an `impression` row: the item shown at that 1-based position) or answers (feedback
///   on an item of that list), with the model version and the traffic arm that served it; all
///   empty on a row that names no list;
/// - any other column: a numeric context feature of the interaction (device, time of day, …).
/// Users and items are numbered in order of first appearance.
public struct LoggedInteractions: Sendable, Equatable {
    public static let requiredColumns = ["user", "item", "timestamp", "event"]
    /// The columns that tie a row to a served list (see `Served`).
    public static let servedColumns = ["impression", "position", "version", "arm"]

    /// The served list a row belongs to or answers.
    public struct Served: Sendable, Equatable {
        /// The list's identifier (the request that asked for it).
        public var impression: String
        /// 1-based.
        public var position: Int
        public var version: String, arm: String

        public init(impression: String, position: Int, version: String, arm: String) {
            (self.impression, self.position, self.version, self.arm) = (impression, position, version, arm)
        }
    }

    /// Identifiers by index.
    public private(set) var userIds: [String] = [], itemIds: [String] = []
    public private(set) var users: [Int32] = [], items: [Int32] = []
    public private(set) var timestamps: [Int64] = []
    public private(set) var events: [FeedbackKind] = []
    public private(set) var values: [Float] = []
    /// NaN where unknown.
    public private(set) var propensities: [Float] = []
    /// The served list row `k` belongs to or answers (nil where it names none); each distinct
    /// text is kept once.
    public func served(_ k: Int) -> Served? { servedRow(k) }
    /// Indices into `servedTexts` (-1: the row names no list) and the position (0: none).
    private struct ServedIndex: Sendable, Equatable { var impression: Int32, position: Int32, version: Int32, arm: Int32 }
    private var servedIndices: [ServedIndex] = []
    private var servedTexts: [String] = []
    private var servedTextIndex: [String: Int32] = [:]
    public let contextColumns: [String]
    /// Row-major [count, contextColumns.count].
    public private(set) var context: [Float] = []
    private var userIndex: [String: Int32] = [:], itemIndex: [String: Int32] = [:]

    public init(contextColumns: [String] = []) { self.contextColumns = contextColumns }

    /// An empty log whose item indices start as `items` (in that order): a model's vocabulary, so
    /// that interactions appended later index the items as the model does.
    public init(contextColumns: [String] = [], items: [String]) {
        self.contextColumns = contextColumns
        for item in items { _ = Self.index(item, in: &itemIndex, ids: &itemIds) }
    }

    /// The interactions whose timestamp is in `period`, in order, indexed afresh.
    public func within(_ period: Range<Int64>) -> LoggedInteractions {
        filter { period.contains(timestamps[$0]) }
    }

    /// What the users did, without what they were only shown: every row but the `impression`
    /// ones (an impression log's lists, or shown-and-ignored feedback), in order, indexed afresh.
    /// A next-item model learns from and is judged on these.
    public func actions() -> LoggedInteractions {
        filter { events[$0] != .impression }
    }

    /// The rows `k` for which `isIncluded(k)`, in order, indexed afresh.
    private func filter(_ isIncluded: (Int) -> Bool) -> LoggedInteractions {
        var result = LoggedInteractions(contextColumns: contextColumns)
        let width = contextColumns.count
        for k in 0..<count where isIncluded(k) {
            result.append(user: userIds[Int(users[k])], item: itemIds[Int(items[k])], timestamp: timestamps[k], event: events[k],
                          value: values[k], propensity: propensities[k], context: Array(context[(k * width)..<((k + 1) * width)]),
                          served: servedRow(k))
        }
        return result
    }

    /// The index of a known item.
    public func itemIndex(of id: String) -> Int32? { itemIndex[id] }

    public var count: Int { users.count }
    public var userCount: Int { userIds.count }
    public var itemCount: Int { itemIds.count }

    /// Appends one interaction.
    public mutating func append(user: String, item: String, timestamp: Int64, event: FeedbackKind, value: Float = 1,
                                propensity: Float = .nan, context features: [Float] = [], served: Served? = nil) {
        require(features.count == contextColumns.count,
                "LoggedInteractions: \(features.count) context values for the columns \(contextColumns)")
        require(served.map { (1...Int(Int32.max)).contains($0.position) && !$0.impression.isEmpty } ?? true,
                "LoggedInteractions: a served row needs an impression id and a position from 1 to \(Int32.max), got \(served!)")
        if let served {
            servedIndices.append(ServedIndex(impression: Self.index(served.impression, in: &servedTextIndex, ids: &servedTexts),
                                             position: Int32(served.position),
                                             version: Self.index(served.version, in: &servedTextIndex, ids: &servedTexts),
                                             arm: Self.index(served.arm, in: &servedTextIndex, ids: &servedTexts)))
        } else {
            servedIndices.append(ServedIndex(impression: -1, position: 0, version: -1, arm: -1))
        }
        users.append(Self.index(user, in: &userIndex, ids: &userIds))
        items.append(Self.index(item, in: &itemIndex, ids: &itemIds))
        timestamps.append(timestamp)
        events.append(event)
        values.append(value)
        propensities.append(propensity)
        context.append(contentsOf: features)
    }

    private func servedRow(_ k: Int) -> Served? {
        let row = servedIndices[k]
        guard row.impression >= 0 else { return nil }
        return Served(impression: servedTexts[Int(row.impression)], position: Int(row.position),
                      version: servedTexts[Int(row.version)], arm: servedTexts[Int(row.arm)])
    }

    /// Whether any row names a served list (then `csv()` writes the served columns).
    public var hasServedRows: Bool { servedIndices.contains { $0.impression >= 0 } }

    private static func index(_ id: String, in table: inout [String: Int32], ids: inout [String]) -> Int32 {
        if let known = table[id] { return known }
        let next = Int32(ids.count)
        table[id] = next
        ids.append(id)
        return next
    }

    /// A data row `read(csv:skippingBadRows:)` left out: its line, its bytes as in the file (line
    /// end included, when it had one) and why.
    public struct BadRow: Sendable, Equatable {
        public let line: Int
        public let bytes: [UInt8]
        public let error: DataFileError
    }

    /// Reads a file in the format, streaming it line by line. Any bad row stops the read with
    /// its file, line and column.
    public static func read(csv path: String) throws(DataFileError) -> LoggedInteractions {
        try read(csv: path, skippingBadRows: false).log
    }

    /// Reads a file in the format; with `skippingBadRows`, a data row that cannot be read (a
    /// malformed field, a NUL, bytes that are not UTF-8, a field count other than the header's)
    /// is left out and returned with its reason, so that one bad line does not cost the rest of a
    /// log (a server's restart replays its logs). The header is always checked. With `resuming`,
    /// only the rows from that position on are read (see `forEachLine`). Returns where the file
    /// ended too.
    public static func read(csv path: String, skippingBadRows: Bool, resuming start: LinePosition? = nil) throws(DataFileError)
        -> (log: LoggedInteractions, badRows: [BadRow], end: LinePosition) {
        var dataset = LoggedInteractions()
        let (badRows, end) = try forEachRow(csv: path, skippingBadRows: skippingBadRows, resuming: start,
                                            header: { dataset = LoggedInteractions(contextColumns: $0) }) { row throws(DataFileError) in
            dataset.append(user: row.user, item: row.item, timestamp: row.timestamp, event: row.event, value: row.value, propensity: row.propensity,
                           context: row.context, served: row.served)
        }
        return (dataset, badRows, end)
    }

    /// One data row of a file in the format, as `forEachRow` reads it.
    public struct Row: Sendable {
        public var user = "", item = ""
        public var timestamp: Int64 = 0
        public var event = FeedbackKind.click
        public var value: Float = 1, propensity = Float.nan
        public var served: Served?
        /// One value per context column.
        public var context: [Float] = []
    }

    /// Streams a file in the format without keeping it: `header` gets the context columns' names
    /// once the header line is checked, then `body` each data row read, in order (the row is
    /// reused from call to call). Bad rows are handled as `read(csv:skippingBadRows:resuming:)`
    /// says; an error `body` throws stops the reading. Returns the rows left out and where the file
    /// ended.
    @discardableResult
    public static func forEachRow(csv path: String, skippingBadRows: Bool = false, resuming start: LinePosition? = nil,
                                  header readHeader: ([String]) -> Void, _ body: (Row) throws(DataFileError) -> Void) throws(DataFileError)
        -> (badRows: [BadRow], end: LinePosition) {
        var badRows: [BadRow] = []
        var header: [String]?
        var positions: (user: Int, item: Int, timestamp: Int, event: Int, value: Int?, propensity: Int?, served: [Int]?, context: [Int]) =
            (0, 0, 0, 0, nil, nil, nil, [])
        var row = Row()
        let unreadable: ((Int, [UInt8], DataFileError) throws(DataFileError) -> Void)?
        if skippingBadRows {
            unreadable = { line, bytes, error throws(DataFileError) in
                guard header != nil else { throw error }  // the header
                badRows.append(BadRow(line: line, bytes: bytes, error: error))
            }
        } else {
            unreadable = nil
        }
        let end = try forEachLine(of: path, resuming: start, csvRecords: true, unreadable: unreadable) { lineNumber, text throws(DataFileError) in
            do throws(DataFileError) {
                let fields: [String]
                do throws(CSVLineError) { fields = try Self.fields(of: text) } catch {
                    throw DataFileError(file: path, line: lineNumber, error.message)
                }
                guard let header else {
                    for name in requiredColumns where !fields.contains(name) {
                        throw DataFileError(file: path, line: lineNumber, column: name,
                                            "the header lacks the required column (it has \(fields); required: \(requiredColumns))")
                    }
                    for (k, name) in fields.enumerated() where fields[..<k].contains(name) {
                        throw DataFileError(file: path, line: lineNumber, column: name, "the header names the column twice")
                    }
                    let served = servedColumns.compactMap { fields.firstIndex(of: $0) }
                    guard served.isEmpty || served.count == servedColumns.count else {
                        let missing = servedColumns.filter { !fields.contains($0) }
                        throw DataFileError(file: path, line: lineNumber, column: missing[0],
                                            "the header has some of the served-list columns \(servedColumns) but not '\(missing[0])'; they come together")
                    }
                    let known = Set(requiredColumns + ["value", "propensity"] + servedColumns)
                    positions = (fields.firstIndex(of: "user")!, fields.firstIndex(of: "item")!, fields.firstIndex(of: "timestamp")!,
                                 fields.firstIndex(of: "event")!, fields.firstIndex(of: "value"), fields.firstIndex(of: "propensity"),
                                 served.isEmpty ? nil : served, fields.indices.filter { !known.contains(fields[$0]) })
                    header = fields
                    readHeader(positions.context.map { fields[$0] })
                    return
                }
                guard fields.count == header.count else {
                    throw DataFileError(file: path, line: lineNumber, "has \(fields.count) fields; the header has \(header.count) (\(header))")
                }
                func fail(_ column: Int, _ message: String) -> DataFileError {
                    DataFileError(file: path, line: lineNumber, column: header[column], message)
                }
                row.user = fields[positions.user]
                row.item = fields[positions.item]
                guard !row.user.isEmpty else { throw fail(positions.user, "is empty") }
                guard !row.item.isEmpty else { throw fail(positions.item, "is empty") }
                guard let timestamp = Int64(fields[positions.timestamp]) else {
                    throw fail(positions.timestamp, "'\(fields[positions.timestamp])' is not an integer number of seconds")
                }
                row.timestamp = timestamp
                guard let event = FeedbackKind(name: fields[positions.event]) else {
                    throw fail(positions.event, "'\(fields[positions.event])' is not an event type (\(FeedbackKind.allCases.map(\.name).joined(separator: ", ")))")
                }
                row.event = event
                row.value = 1
                if let column = positions.value, !fields[column].isEmpty {
                    guard let number = Float(fields[column]), number.isFinite else { throw fail(column, "'\(fields[column])' is not a finite number") }
                    row.value = number
                }
                row.propensity = .nan
                if let column = positions.propensity, !fields[column].isEmpty {
                    guard let number = Float(fields[column]), number > 0, number <= 1 else {
                        throw fail(column, "'\(fields[column])' is not a probability in (0, 1]")
                    }
                    row.propensity = number
                }
                row.served = nil
                if let columns = positions.served {
                    let texts = columns.map { fields[$0] }
                    if texts.contains(where: { !$0.isEmpty }) {
                        for (column, text) in zip(columns, texts) where text.isEmpty { throw fail(column, "is empty while the row names a served list") }
                        guard let position = Int(texts[1]), (1...Int(Int32.max)).contains(position) else {
                            throw fail(columns[1], "'\(texts[1])' is not a position (an integer from 1 to \(Int32.max))")
                        }
                        row.served = Served(impression: texts[0], position: position, version: texts[2], arm: texts[3])
                    }
                }
                row.context.removeAll(keepingCapacity: true)
                for column in positions.context {
                    guard let number = Float(fields[column]), number.isFinite else {
                        throw fail(column, "'\(fields[column])' is not a finite number (context columns hold numbers)")
                    }
                    row.context.append(number)
                }
            } catch {
                guard skippingBadRows, header != nil, error.line == lineNumber else { throw error }
                badRows.append(BadRow(line: lineNumber, bytes: Array((text + "\n").utf8), error: error))
                return
            }
            try body(row)
        }
        guard header != nil else { throw DataFileError(file: path, line: max(end.line, 1), "the file is empty: it needs a header line") }
        return (badRows, end)
    }

    /// The CSV text of the dataset in the format (header, then one line per interaction).
    public func csv() -> String {
        let withServed = hasServedRows
        var lines = [Self.csvHeader(servedColumns: withServed, contextColumns: contextColumns)]
        let width = contextColumns.count
        for k in 0..<count {
            lines.append(Self.csvRow(user: userIds[Int(users[k])], item: itemIds[Int(items[k])], timestamp: timestamps[k], event: events[k],
                                     value: values[k], propensity: propensities[k], served: servedRow(k), servedColumns: withServed,
                                     context: context[(k * width)..<((k + 1) * width)]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The format's header line (without its line end): the fixed columns, the served-list
    /// columns when `servedColumns`, then the context columns.
    public static func csvHeader(servedColumns: Bool, contextColumns: [String]) -> String {
        (["user", "item", "timestamp", "event", "value", "propensity"] + (servedColumns ? Self.servedColumns : []) + contextColumns)
            .map(csvField).joined(separator: ",")
    }

    /// One interaction as a line of the format (without its line end), in the columns of
    /// `csvHeader(servedColumns:contextColumns:)`; a NaN propensity (unknown) is an empty field.
    public static func csvRow(user: String, item: String, timestamp: Int64, event: FeedbackKind, value: Float, propensity: Float,
                              served: Served?, servedColumns: Bool, context: some Collection<Float>) -> String {
        var fields = [csvField(user), csvField(item), String(timestamp), event.name, "\(value)", propensity.isNaN ? "" : "\(propensity)"]
        if servedColumns {
            fields += served.map { [csvField($0.impression), String($0.position), csvField($0.version), csvField($0.arm)] } ?? ["", "", "", ""]
        }
        fields += context.map { "\($0)" }
        return fields.joined(separator: ",")
    }

    /// A field as the format writes it: in double quotes (doubled inside) when it holds a comma,
    /// a quote or a line break. Both the check and the doubling read UTF-8 bytes: they run for
    /// every field of every logged row, and a scan by Character (grapheme clusters) was most of a
    /// served list's logging; and a Character is not a byte: "\r\n" is one, and so is a quote with
    /// a combining mark after it, which the reader sees as a quote (found by fuzzing: such a quote
    /// was written undoubled, and the row read back as "text after a closing quote").
    public static func csvField(_ field: String) -> String {
        let quote = UInt8(ascii: "\"")
        guard field.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == quote || $0 == 0x0A || $0 == 0x0D }) else { return field }
        var bytes: [UInt8] = [quote]
        bytes.reserveCapacity(field.utf8.count + 4)
        for byte in field.utf8 {
            bytes.append(byte)
            if byte == quote { bytes.append(quote) }
        }
        bytes.append(quote)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A CSV line that cannot be split into fields (an unterminated quote, say).
    public struct CSVLineError: Error { public let message: String }

    /// The fields of one CSV line: commas separate, a field in double quotes may hold commas and
    /// doubled quotes. Read as UTF-8 bytes (commas and quotes are single bytes, never part of a
    /// multi-byte character), with unquoted fields cut out whole: reading by Character spent most of
    /// the time of loading a log (grapheme breaking at every character).
    public static func fields(of line: String) throws(CSVLineError) -> [String] {
        var line = line
        let parsed = line.withUTF8 { bytes -> Result<[String], CSVLineError> in
            let (quote, comma, n) = (UInt8(ascii: "\""), UInt8(ascii: ","), bytes.count)
            var fields: [String] = [], i = 0
            while true {
                if i < n && bytes[i] == quote {
                    var text: [UInt8] = [], closed = false
                    i += 1
                    while i < n {
                        if bytes[i] == quote {
                            if i + 1 < n && bytes[i + 1] == quote {
                                text.append(quote)
                                i += 2
                                continue
                            }
                            i += 1
                            closed = true
                            break
                        }
                        text.append(bytes[i])
                        i += 1
                    }
                    guard closed else { return .failure(CSVLineError(message: "field \(fields.count + 1) opens a quote that the line never closes")) }
                    fields.append(String(decoding: text, as: UTF8.self))
                    guard i == n || bytes[i] == comma else { return .failure(CSVLineError(message: "text after a closing quote in field \(fields.count)")) }
                } else {
                    let start = i
                    while i < n && bytes[i] != comma { i += 1 }
                    fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self))
                }
                if i == n { return .success(fields) }
                i += 1
            }
        }
        return try parsed.get()
    }
}
