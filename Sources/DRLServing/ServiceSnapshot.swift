import DRLData
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a `RecommendationService` rebuilt from its logs, as of a place in each log: the users'
/// histories, the items' counts and the latest served lists. A restart loads it and replays only
/// the lines the logs gained after those places, so that restart time and memory follow the state
/// (users × events kept), not the length of the logs.
///
/// The file (beside the feedback log) is binary: the magic "DRLSNAP1", the body, and the SHA-256 of
/// both. It is only ever trusted whole: a file that is damaged or hostile, of other settings (item
/// catalogue, context columns, events kept per user, user cap, logs), or whose logs no longer hold
/// the bytes it was taken from (a log replaced, truncated or rewritten: checked by digests of the
/// log's first 4 KiB and of the 64 KiB before its place) is refused with the reason, and the logs
/// are replayed from their start as without a snapshot. Every count is checked against the bytes
/// left before anything is allocated from it.
struct ServiceSnapshot {
    /// A place in a log, with the digests that tie it to the log's bytes.
    struct LogMark: Equatable {
        var position: LinePosition
        var headDigest: String, tailDigest: String
    }

    /// A served list the service remembers (the feedback that names it is checked against it).
    struct ServedList: Equatable {
        var id: String, user: String, version: String, arm: TrafficSplit.Arm, items: [Int32]
    }

    /// The digest of what the snapshot's contents depend on besides the logs.
    var settings: String
    var feedback: LogMark
    var impressions: LogMark?
    var histories: UserHistories.Contents
    /// Oldest first.
    var recentLists: [ServedList]

    static let magic = Array("DRLSNAP1".utf8)
    static let headBytes = 4096, tailBytes = 65_536

    /// The settings a snapshot must have been taken under to be used.
    static func settings(itemIds: [String], contextColumns: [String], historyCapacity: Int, maximumUsers: Int,
                         keepsServedLists: Bool, logsImpressions: Bool) -> String {
        var text = "items \(itemIds.count)\n" + itemIds.joined(separator: "\n") + "\ncontext \(contextColumns.count)\n"
        text += contextColumns.joined(separator: "\n") + "\ncapacity \(historyCapacity) users \(maximumUsers)"
        text += " served-lists-in-histories \(keepsServedLists) impression-log \(logsImpressions)"
        return SHA256.hex(Array(text.utf8))
    }

    /// The mark of `position` in the log at `path`, read from the file (whose bytes before
    /// `position` an append-only log never changes).
    static func mark(of path: String, at position: LinePosition) throws -> LogMark {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SnapshotRefusal("cannot open the log '\(path)': \(DurableFile.systemError())") }
        defer { close(fd) }
        func digest(_ range: Range<Int>) throws -> String {
            var bytes = [UInt8](repeating: 0, count: range.count)
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, range.count, off_t(range.lowerBound)) }
            guard n == range.count else {
                throw SnapshotRefusal("the log '\(path)' is shorter than the snapshot's place in it (byte \(position.byte))")
            }
            return SHA256.hex(bytes)
        }
        let (head, tail) = (try digest(0..<min(position.byte, headBytes)), try digest(max(0, position.byte - tailBytes)..<position.byte))
        var last: UInt8 = 0
        guard position.byte > 0, pread(fd, &last, 1, off_t(position.byte - 1)) == 1, last == 10 else {
            throw SnapshotRefusal("byte \(position.byte) of the log '\(path)' is not the start of a line")
        }
        return LogMark(position: position, headDigest: head, tailDigest: tail)
    }

    // MARK: Writing

    func encoded() -> [UInt8] {
        var out = SnapshotWriter()
        out.bytes = Self.magic
        out.text(settings)
        for mark in [feedback, impressions] {
            out.integer(UInt8(mark == nil ? 0 : 1))
            guard let mark else { continue }
            out.integer(UInt64(mark.position.byte))
            out.integer(UInt64(mark.position.line))
            out.text(mark.headDigest)
            out.text(mark.tailDigest)
        }
        out.integer(histories.writes)
        out.integer(UInt32(histories.counts.count))
        for count in histories.counts { out.integer(count.bitPattern) }
        out.integer(UInt32(histories.entries.count))
        // In write order, so that the file of one state is always the same bytes.
        for (user, entry) in histories.entries.sorted(by: { $0.value.written < $1.value.written || ($0.value.written == $1.value.written && $0.key < $1.key) }) {
            out.text(user)
            out.integer(entry.written)
            out.integer(UInt32(entry.context.count))
            for value in entry.context { out.integer(value.bitPattern) }
            out.integer(UInt32(entry.events.count))
            for event in entry.events {
                out.integer(UInt32(bitPattern: event.item))
                out.integer(UInt8(event.event.rawValue))
                out.integer(event.value.bitPattern)
                out.integer(UInt64(bitPattern: event.timestamp))
            }
        }
        out.integer(UInt32(recentLists.count))
        for list in recentLists {
            out.text(list.id)
            out.text(list.user)
            out.text(list.version)
            out.integer(UInt8(list.arm == .candidate ? 1 : 0))
            out.integer(UInt32(list.items.count))
            for item in list.items { out.integer(UInt32(bitPattern: item)) }
        }
        out.bytes += Array(SHA256.hex(out.bytes).utf8)
        return out.bytes
    }

    /// Writes the snapshot to `path` atomically (a crash leaves the old one or the new one).
    func write(to path: String) throws {
        try DurableFile.write(encoded(), to: path)
    }

    // MARK: Reading

    /// The snapshot in `bytes`, checked whole: its checksum, its settings against `settings`, and
    /// every value against the bounds it must keep (`items` items, `contextWidth` context values,
    /// `capacity` events per user, `maximumUsers` users).
    static func decode(_ bytes: [UInt8], settings expected: String, items: Int, contextWidth: Int, capacity: Int,
                       maximumUsers: Int) throws(SnapshotRefusal) -> ServiceSnapshot {
        let checksumLength = 64
        guard bytes.count >= magic.count + checksumLength, Array(bytes[0..<magic.count]) == magic else {
            throw SnapshotRefusal("it is not a DRLRec service snapshot (no DRLSNAP1 magic)")
        }
        let body = Array(bytes[0..<(bytes.count - checksumLength)])
        guard SHA256.hex(body) == String(decoding: bytes[(bytes.count - checksumLength)...], as: UTF8.self) else {
            throw SnapshotRefusal("its checksum does not match its contents (a damaged or partly written file)")
        }
        var input = SnapshotReader(bytes: body, offset: magic.count)
        guard try input.text() == expected else {
            throw SnapshotRefusal("it was taken under other settings (item catalogue, context columns, events per user, user cap or logs)")
        }
        var marks: [LogMark?] = []
        for _ in 0..<2 {
            guard try input.integer(UInt8.self) == 1 else { marks.append(nil); continue }
            let byte = try input.integer(UInt64.self), line = try input.integer(UInt64.self)
            guard byte <= UInt64(Int.max), line >= 1, line <= byte else { throw SnapshotRefusal("a log place (byte \(byte), line \(line)) is impossible") }
            marks.append(LogMark(position: LinePosition(byte: Int(byte), line: Int(line)), headDigest: try input.text(), tailDigest: try input.text()))
        }
        guard let feedback = marks[0] else { throw SnapshotRefusal("it has no place in the feedback log") }
        let writes = try input.integer(UInt64.self)
        guard try input.count(elementBytes: 4) == items else { throw SnapshotRefusal("its item counts are not one per item") }
        var counts = [Float](repeating: 0, count: items)
        for i in 0..<items {
            counts[i] = Float(bitPattern: try input.integer(UInt32.self))
            guard counts[i].isFinite, counts[i] >= 0 else { throw SnapshotRefusal("item \(i)'s count is not a count") }
        }
        let users = try input.count(elementBytes: 21)
        guard users <= maximumUsers else { throw SnapshotRefusal("it holds \(users) users; at most \(maximumUsers) are kept") }
        var entries: [String: UserHistories.Entry] = [:]
        entries.reserveCapacity(users)
        for _ in 0..<users {
            let user = try input.text()
            guard !user.isEmpty, entries[user] == nil else { throw SnapshotRefusal("a user id is empty or given twice") }
            var entry = UserHistories.Entry()
            entry.written = try input.integer(UInt64.self)
            guard entry.written <= writes else { throw SnapshotRefusal("user '\(user)' was written after the last write") }
            let width = try input.count(elementBytes: 4)
            guard width == contextWidth || width == 0 else { throw SnapshotRefusal("user '\(user)' has \(width) context values; the model has \(contextWidth)") }
            for _ in 0..<width {
                let value = Float(bitPattern: try input.integer(UInt32.self))
                guard value.isFinite else { throw SnapshotRefusal("user '\(user)' has a context value that is not finite") }
                entry.context.append(value)
            }
            let events = try input.count(elementBytes: 17)
            guard events <= capacity else { throw SnapshotRefusal("user '\(user)' has \(events) events; at most \(capacity) are kept") }
            entry.events.reserveCapacity(events)
            for _ in 0..<events {
                let item = Int32(bitPattern: try input.integer(UInt32.self))
                guard (0..<Int32(items)).contains(item), let kind = FeedbackKind(rawValue: Int(try input.integer(UInt8.self))) else {
                    throw SnapshotRefusal("user '\(user)' has an event of an unknown item or kind")
                }
                let value = Float(bitPattern: try input.integer(UInt32.self))
                guard value.isFinite else { throw SnapshotRefusal("user '\(user)' has an event value that is not finite") }
                entry.events.append(UserEvent(item: item, event: kind, value: value, timestamp: Int64(bitPattern: try input.integer(UInt64.self))))
            }
            entries[user] = entry
        }
        let lists = try input.count(elementBytes: 17)
        var recentLists: [ServedList] = []
        recentLists.reserveCapacity(lists)
        for _ in 0..<lists {
            let id = try input.text(), user = try input.text(), version = try input.text()
            let arm: TrafficSplit.Arm
            switch try input.integer(UInt8.self) {
            case 0: arm = .control
            case 1: arm = .candidate
            default: throw SnapshotRefusal("list '\(id)' has an unknown arm")
            }
            let length = try input.count(elementBytes: 4)
            var listItems: [Int32] = []
            listItems.reserveCapacity(length)
            for _ in 0..<length {
                let item = Int32(bitPattern: try input.integer(UInt32.self))
                guard (0..<Int32(items)).contains(item) else { throw SnapshotRefusal("list '\(id)' shows an unknown item") }
                listItems.append(item)
            }
            recentLists.append(ServedList(id: id, user: user, version: version, arm: arm, items: listItems))
        }
        guard input.offset == body.count else { throw SnapshotRefusal("it has \(body.count - input.offset) bytes after its contents") }
        return ServiceSnapshot(settings: expected, feedback: feedback, impressions: marks[1],
                               histories: UserHistories.Contents(entries: entries, counts: counts, writes: writes), recentLists: recentLists)
    }
}

/// Why a snapshot was not used (the logs are then replayed from their start).
struct SnapshotRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Little-endian fields and length-prefixed UTF-8 texts.
private struct SnapshotWriter {
    var bytes: [UInt8] = []

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func text(_ value: String) {
        integer(UInt32(value.utf8.count))
        bytes += value.utf8
    }
}

private struct SnapshotReader {
    let bytes: [UInt8]
    var offset: Int

    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(SnapshotRefusal) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { throw SnapshotRefusal("it ends early (at byte \(offset))") }
        var value = T.zero
        for k in 0..<size { value |= T(bytes[offset + k]) << (8 * k) }
        offset += size
        return value
    }

    /// A count of elements of at least `elementBytes` bytes each, checked against the bytes left.
    mutating func count(elementBytes: Int) throws(SnapshotRefusal) -> Int {
        let count = Int(try integer(UInt32.self))
        guard count <= (bytes.count - offset) / elementBytes else {
            throw SnapshotRefusal("a count at byte \(offset - 4) (\(count)) is larger than the file could hold")
        }
        return count
    }

    mutating func text() throws(SnapshotRefusal) -> String {
        let length = try count(elementBytes: 1)
        guard let text = String(validating: bytes[offset..<(offset + length)], as: UTF8.self) else {
            throw SnapshotRefusal("a text at byte \(offset) is not UTF-8")
        }
        offset += length
        return text
    }
}
