import DRLData
import DRLTensor
import Foundation
import Testing
@testable import DRLServing

/// A restart that starts from the snapshot knows what a restart that replays the logs whole
/// knows, and reads only what the logs gained since; a snapshot that does not match its logs or
/// settings, or is damaged or hostile, is refused and the logs are replayed whole.
@Suite struct ServiceSnapshotTests {
    static let items = (0..<30).map { "i\($0)" }

    /// A registry serving a `FixedScoresModel` that reads the lists it served (so they enter the
    /// histories too), with an impression log. `snapshot`: whether the service keeps a snapshot.
    func service(in directory: String, snapshot: Bool = true, capacity: Int = 50,
                 clock: @escaping @Sendable () -> Int64 = { 0 }) throws -> RecommendationService {
        let registry = try ModelRegistry(directory: directory)
        if try registry.state().production == nil {
            let path = directory + "/fixed.safetensors"
            try FixedScoresModel.save(items: Self.items, contextColumns: ["age"], scores: Self.items.indices.map { Float($0) },
                                      readsImpressions: true, to: path)
            try registry.register(checkpoint: path, scenario: "fixed", dataHash: "d")
            try registry.promote("v1")
        }
        var configuration = RecommendationService.Configuration()
        configuration.latencyBudget = .seconds(5)
        configuration.modelKinds = ServableModelKinds([FixedScoresModel.self])
        configuration.impressionLogPath = directory + "/impressions.csv"
        configuration.historyCapacity = capacity
        configuration.clock = clock
        if snapshot { configuration.snapshotPath = directory + "/feedback.csv.snapshot" }
        return try RecommendationService(registry: registry, feedbackPath: directory + "/feedback.csv", configuration: configuration)
    }

    /// A clock that ticks at every call, so that the two logs' order is exact.
    final class Ticks: @unchecked Sendable {
        private let lock = NSLock()
        private var now: Int64 = 1000
        func next() -> Int64 { lock.withLock { now += 1; return now } }
    }

    /// Recommends to `user` and clicks the first item shown, naming the list.
    func visit(_ service: RecommendationService, _ user: String, ticks: Ticks, age: Float) async throws {
        var request = RecommendRequest(user: user, k: 4)
        request.excludeSeen = false
        let answer = try await service.recommend(request)
        try await service.feedback(FeedbackEvent(user: user, item: answer.items[0].id, timestamp: ticks.next(), event: .click, context: [age],
                                                 served: .init(impression: answer.impression!, position: 1, version: "v1", arm: "control")))
    }

    func stop(_ service: RecommendationService) {
        service.feedbackLog.shutDown()
        service.impressionLog?.shutDown()
    }

    /// Whether two services hold the same histories, counts and served lists (checked by
    /// feedback naming each list of the impression log).
    func expectSameState(_ a: RecommendationService, _ b: RecommendationService, users: [String], impressions: String) throws {
        #expect(a.histories.userCount == b.histories.userCount)
        for user in users {
            let (x, y) = (a.histories.entry(for: user), b.histories.entry(for: user))
            #expect(x?.events == y?.events && x?.context == y?.context, "user \(user)")
        }
        #expect(a.histories.popularity() == b.histories.popularity())
        let shown = try LoggedInteractions.read(csv: impressions)
        for row in 0..<shown.count {
            let served = try #require(shown.served(row))
            let (user, item) = (shown.userIds[Int(shown.users[row])], shown.itemIds[Int(shown.items[row])])
            #expect(try a.servedList(impression: served.impression, position: served.position, item: item, user: user)
                    == b.servedList(impression: served.impression, position: served.position, item: item, user: user))
        }
    }

    @Test func aRestartFromTheSnapshotKnowsWhatAFullReplayKnows() async throws {
        let directory = Fixtures.scratchDirectory("snapshot")
        let ticks = Ticks()
        let first = try service(in: directory, clock: { ticks.next() })
        #expect(!first.replay.fromSnapshot && first.replay.snapshotRefused == nil && first.replay.snapshotNotWritten == nil)
        let users = (0..<12).map { "u\($0)" }
        for round in 0..<8 {
            for (k, user) in users.enumerated() { try await visit(first, user, ticks: ticks, age: Float(10 * k + round)) }
            if round == 4 { try await first.writeSnapshot() }
        }
        stop(first)  // as a kill: no snapshot at the stop

        let fromSnapshot = try service(in: directory, clock: { ticks.next() })
        #expect(fromSnapshot.replay.fromSnapshot && fromSnapshot.replay.snapshotRefused == nil)
        // Only the three rounds after the snapshot: one feedback row and four impression rows per visit.
        #expect(fromSnapshot.replay.feedbackRows == 3 * 12 && fromSnapshot.replay.impressionRows == 3 * 12 * 4)
        let whole = try service(in: directory, snapshot: false, clock: { ticks.next() })
        #expect(!whole.replay.fromSnapshot && whole.replay.feedbackRows == 8 * 12)
        try expectSameState(fromSnapshot, whole, users: users, impressions: directory + "/impressions.csv")
        stop(fromSnapshot)
        stop(whole)

        // The start wrote a snapshot after its replay: the next start replays nothing.
        let again = try service(in: directory, clock: { ticks.next() })
        defer { stop(again) }
        #expect(again.replay.fromSnapshot && again.replay.feedbackRows == 0 && again.replay.impressionRows == 0)
        let latest = try service(in: directory, snapshot: false, clock: { ticks.next() })
        defer { stop(latest) }
        try expectSameState(again, latest, users: users, impressions: directory + "/impressions.csv")
    }

    /// Snapshots taken while feedback and recommend calls run concurrently cut the logs exactly
    /// where the copied state ends: a restart from any of them knows what the full replay knows.
    /// (Without the gate that holds requests back while the state is copied, some of them miss
    /// an event that is in the log, or count one twice.)
    @Test func snapshotsUnderTrafficCutTheLogsWhereTheirStateEnds() async throws {
        let directory = Fixtures.scratchDirectory("snapshot-traffic")
        let path = directory + "/feedback.csv.snapshot"
        let ticks = Ticks()
        let live = try service(in: directory, clock: { ticks.next() })
        let users = (0..<16).map { "u\($0)" }
        let taken = try await withThrowingTaskGroup(of: [Data].self) { group in
            for (k, user) in users.enumerated() {
                group.addTask {
                    for round in 0..<40 { try await self.visit(live, user, ticks: ticks, age: Float(k * 100 + round)) }
                    return []
                }
            }
            group.addTask {
                var copies: [Data] = []
                for _ in 0..<30 {
                    try await live.writeSnapshot()
                    copies.append(try Data(contentsOf: URL(fileURLWithPath: path)))
                    await Task.yield()
                }
                return copies
            }
            return try await group.reduce([], +)
        }
        stop(live)
        let whole = try service(in: directory, snapshot: false, clock: { ticks.next() })
        defer { stop(whole) }
        var tails: Set<Int> = []
        for copy in taken {
            try copy.write(to: URL(fileURLWithPath: path))
            let restarted = try service(in: directory, clock: { ticks.next() })
            defer { stop(restarted) }
            #expect(restarted.replay.fromSnapshot)
            tails.insert(restarted.replay.feedbackRows)
            try expectSameState(restarted, whole, users: users, impressions: directory + "/impressions.csv")
        }
        #expect(tails.count > 5, "the snapshots were taken at \(tails.count) places only")
    }

    /// A log that no longer holds the bytes the snapshot was taken from (here rewritten with other
    /// feedback of the same length), a damaged snapshot, or one of other settings, is refused
    /// with the reason; the start replays the logs whole, and a folder where the snapshot goes
    /// does not stop the start.
    @Test func aSnapshotThatDoesNotMatchIsRefused() async throws {
        let directory = Fixtures.scratchDirectory("snapshot-refused")
        let ticks = Ticks()
        let first = try service(in: directory, clock: { ticks.next() })
        for user in ["a", "b", "c"] { try await visit(first, user, ticks: ticks, age: 3) }
        try await first.writeSnapshot()
        stop(first)
        let snapshotPath = directory + "/feedback.csv.snapshot"
        let saved = try Data(contentsOf: URL(fileURLWithPath: snapshotPath))

        func refusal(capacity: Int = 50) throws -> String? {
            let restarted = try service(in: directory, capacity: capacity, clock: { ticks.next() })
            defer { stop(restarted) }
            #expect(restarted.replay.fromSnapshot == (restarted.replay.snapshotRefused == nil))
            return restarted.replay.snapshotRefused
        }
        #expect(try refusal(capacity: 40)?.contains("other settings") == true)
        try saved.write(to: URL(fileURLWithPath: snapshotPath))
        var damaged = saved
        damaged[damaged.count / 2] ^= 1
        try damaged.write(to: URL(fileURLWithPath: snapshotPath))
        #expect(try refusal()?.contains("checksum") == true)
        try Data(saved.prefix(100)).write(to: URL(fileURLWithPath: snapshotPath))
        #expect(try refusal()?.contains("checksum") == true)

        try saved.write(to: URL(fileURLWithPath: snapshotPath))
        let feedback = directory + "/feedback.csv"
        let text = try String(contentsOfFile: feedback, encoding: .utf8)
        try text.replacingOccurrences(of: "\nb,", with: "\nd,").write(toFile: feedback, atomically: true, encoding: .utf8)
        #expect(try refusal()?.contains("no longer holds the bytes") == true)
        let replayed = try service(in: directory, clock: { ticks.next() })  // the refused start wrote a new snapshot
        #expect(replayed.replay.fromSnapshot && replayed.histories.entry(for: "d") != nil && replayed.histories.entry(for: "b")?.events.count == 4)
        stop(replayed)

        try FileManager.default.removeItem(atPath: snapshotPath)
        try FileManager.default.createDirectory(atPath: snapshotPath, withIntermediateDirectories: false)
        let blocked = try service(in: directory, clock: { ticks.next() })
        defer { stop(blocked) }
        #expect(blocked.replay.snapshotRefused != nil && blocked.replay.snapshotNotWritten != nil && blocked.histories.userCount == 4)
    }

    /// A snapshot with a valid checksum and settings but contents a service could not hold (an
    /// unknown item, more events or users than kept, a count past the file's end) is refused by
    /// its reader before anything is allocated from it.
    @Test func aHostileSnapshotIsRefusedByItsReader() throws {
        let settings = "s"
        let mark = ServiceSnapshot.LogMark(position: LinePosition(byte: 10, line: 1), headDigest: "h", tailDigest: "t")
        func snapshot(events: [UserEvent], users: Int = 1, list: [Int32] = [1]) -> ServiceSnapshot {
            var entries: [String: UserHistories.Entry] = [:]
            for u in 0..<users { entries["u\(u)"] = UserHistories.Entry(events: events, context: [2]) }
            return ServiceSnapshot(settings: settings, feedback: mark, impressions: nil,
                                   histories: UserHistories.Contents(entries: entries, counts: [1, 2, 3], writes: 9),
                                   recentLists: [.init(id: "r", user: "u0", version: "v1", arm: .candidate, items: list)])
        }
        func decode(_ bytes: [UInt8]) throws(SnapshotRefusal) -> ServiceSnapshot {
            try ServiceSnapshot.decode(bytes, settings: settings, items: 3, contextWidth: 1, capacity: 4, maximumUsers: 2)
        }
        let good = snapshot(events: [UserEvent(item: 2, event: .purchase, value: 2, timestamp: 5)])
        let read = try decode(good.encoded())
        #expect(read.feedback == mark && read.recentLists == good.recentLists && read.histories.counts == [1, 2, 3]
                && read.histories.entries["u0"]?.events == good.histories.entries["u0"]?.events)
        func refusal(_ bytes: [UInt8]) -> String {
            do { _ = try decode(bytes); return "" } catch { return error.description }
        }
        #expect(refusal(snapshot(events: [UserEvent(item: 3, event: .click, timestamp: 1)]).encoded()).contains("unknown item"))
        #expect(refusal(snapshot(events: Array(repeating: UserEvent(item: 0, event: .click, timestamp: 1), count: 5)).encoded()).contains("at most 4"))
        #expect(refusal(snapshot(events: [], users: 3).encoded()).contains("at most 2"))
        #expect(refusal(snapshot(events: [], list: [-1]).encoded()).contains("unknown item"))
        // A count of 2^32 - 1 events, with the checksum made again: refused before any allocation.
        var bytes = Array(snapshot(events: [UserEvent(item: 0, event: .click, timestamp: 1)]).encoded().dropLast(64))
        // From the end: the list (count 4, id 4+1, user 4+2, version 4+2, arm 1, items 4+4), the event (17), its count.
        let eventCount = bytes.count - 30 - 17 - 4
        #expect(bytes[eventCount..<(eventCount + 4)] == [1, 0, 0, 0])
        bytes.replaceSubrange(eventCount..<(eventCount + 4), with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(refusal(bytes + Array(SHA256.hex(bytes).utf8)).contains("larger than the file could hold"))
    }
}
