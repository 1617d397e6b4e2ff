#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Logged interactions grouped by user, each user's oldest first (by time; ties keep the log's
/// order), in columns: what a sequential model reads. User u's rows are `rows(of: u)`, so a
/// user's history is a range of rows and a window of it is a sub-range.
///
/// The columns live in one block of memory laid out by `Layout`: allocated and filled from a
/// `LoggedInteractions`, or mapped from the binary cache of a log file (`InteractionCache`), where
/// they are read without being loaded: a log far bigger than memory costs only the pages touched.
public final class UserSequences: @unchecked Sendable {
    /// Item ids by index, and the context columns' names.
    public let itemIds: [String], contextColumns: [String]
    public let userCount: Int
    /// Rows in all.
    public let count: Int
    public var itemCount: Int { itemIds.count }
    /// User u's rows start at `userStarts[u]` and end at `userStarts[u + 1]`.
    public let userStarts: UnsafeBufferPointer<Int64>
    public let timestamps: UnsafeBufferPointer<Int64>
    public let items: UnsafeBufferPointer<Int32>
    /// The value of each row's feedback (see `UserEvent.value`).
    public let values: UnsafeBufferPointer<Float>
    /// `contextColumns.count` values per row, row after row.
    public let context: UnsafeBufferPointer<Float>
    /// Each row's `FeedbackKind` raw value (checked when the block was made or mapped).
    let eventCodes: UnsafeBufferPointer<UInt8>
    private let release: @Sendable () -> Void

    /// Where each column sits in the block, for `users` users and `rows` rows of `contextWidth`
    /// context values: the 8-byte columns first, then the 4-byte ones, then the bytes, so that
    /// every column is aligned when the block is.
    struct Layout: Equatable {
        let users: Int, rows: Int, contextWidth: Int
        var userStarts: Int { 0 }
        var timestamps: Int { userStarts + 8 * (users + 1) }
        var items: Int { timestamps + 8 * rows }
        var values: Int { items + 4 * rows }
        var context: Int { values + 4 * rows }
        var events: Int { context + 4 * rows * contextWidth }
        var byteCount: Int { events + rows }
    }

    /// Columns in the block at `base` (8-byte aligned, `layout.byteCount` bytes); `release` frees
    /// or unmaps it when the sequences go.
    init(itemIds: [String], contextColumns: [String], layout: Layout, base: UnsafeRawPointer, release: @escaping @Sendable () -> Void) {
        (self.itemIds, self.contextColumns, userCount, count, self.release) = (itemIds, contextColumns, layout.users, layout.rows, release)
        func column<T>(_ offset: Int, _ count: Int, _: T.Type) -> UnsafeBufferPointer<T> {
            UnsafeBufferPointer(start: (base + offset).assumingMemoryBound(to: T.self), count: count)
        }
        userStarts = column(layout.userStarts, layout.users + 1, Int64.self)
        timestamps = column(layout.timestamps, layout.rows, Int64.self)
        items = column(layout.items, layout.rows, Int32.self)
        values = column(layout.values, layout.rows, Float.self)
        context = column(layout.context, layout.rows * layout.contextWidth, Float.self)
        eventCodes = column(layout.events, layout.rows, UInt8.self)
    }

    deinit { release() }

    /// `log`'s interactions by user, in memory.
    public convenience init(_ log: LoggedInteractions) {
        var perUser = [[Int]](repeating: [], count: log.userCount)
        for k in 0..<log.count { perUser[Int(log.users[k])].append(k) }
        let layout = Layout(users: log.userCount, rows: log.count, contextWidth: log.contextColumns.count)
        let block = UnsafeMutableRawPointer.allocate(byteCount: max(layout.byteCount, 1), alignment: 8)
        let width = layout.contextWidth
        var row = 0
        func column<T>(_ offset: Int, _: T.Type) -> UnsafeMutablePointer<T> { (block + offset).bindMemory(to: T.self, capacity: 1) }
        let (starts, timestamps, items) = (column(layout.userStarts, Int64.self), column(layout.timestamps, Int64.self), column(layout.items, Int32.self))
        let (values, context, events) = (column(layout.values, Float.self), column(layout.context, Float.self), column(layout.events, UInt8.self))
        for (user, rows) in perUser.enumerated() {
            starts[user] = Int64(row)
            for k in rows.enumerated().sorted(by: { (log.timestamps[$0.element], $0.offset) < (log.timestamps[$1.element], $1.offset) }).map(\.element) {
                timestamps[row] = log.timestamps[k]
                items[row] = log.items[k]
                values[row] = log.values[k]
                for j in 0..<width { context[row * width + j] = log.context[k * width + j] }
                events[row] = UInt8(log.events[k].rawValue)
                row += 1
            }
        }
        starts[layout.users] = Int64(row)
        nonisolated(unsafe) let owned = block
        self.init(itemIds: log.itemIds, contextColumns: log.contextColumns, layout: layout, base: UnsafeRawPointer(block)) { owned.deallocate() }
    }

    public func rows(of user: Int) -> Range<Int> { Int(userStarts[user])..<Int(userStarts[user + 1]) }

    public func event(_ row: Int) -> FeedbackKind { FeedbackKind(rawValue: Int(eventCodes[row]))! }

    /// Row `row` as the event a served model reads, and its context values.
    public func userEvent(_ row: Int) -> UserEvent {
        UserEvent(item: items[row], event: event(row), value: values[row], timestamp: timestamps[row])
    }
    public func contextValues(_ row: Int) -> [Float] {
        let width = contextColumns.count
        return Array(context[(row * width)..<((row + 1) * width)])
    }

    /// The largest feedback value (1 for an empty log).
    public var largestValue: Float { values.max() ?? 1 }

    /// How often each item occurs.
    public var itemCounts: [Float] {
        var counts = [Float](repeating: 0, count: itemCount)
        for item in items { counts[Int(item)] += 1 }
        return counts
    }

    /// What makes the block unreadable as sequences (nil when nothing does): user starts that do
    /// not run from 0 up to the row count, an item index outside the catalogue, an unknown event
    /// code. Checked on every block mapped from a file, which anyone may have written.
    func problem() -> String? {
        guard userStarts[0] == 0, userStarts[userCount] == Int64(count) else {
            return "the users' rows run from \(userStarts[0]) to \(userStarts[userCount]), not from 0 to the \(count) rows"
        }
        for user in 0..<userCount where userStarts[user + 1] < userStarts[user] {
            return "user \(user)'s rows end (\(userStarts[user + 1])) before they start (\(userStarts[user]))"
        }
        let catalogue = Int32(itemCount), kinds = UInt8(FeedbackKind.allCases.count)
        for row in 0..<count {
            guard items[row] >= 0, items[row] < catalogue else { return "row \(row) names item \(items[row]) of a catalogue of \(itemCount)" }
            guard eventCodes[row] < kinds else { return "row \(row) has event code \(eventCodes[row]); there are \(kinds) event kinds" }
        }
        return nil
    }
}
