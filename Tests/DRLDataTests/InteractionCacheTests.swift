@testable import DRLData
import DRLTensor
import Foundation
import ScratchFiles
import Testing

@Suite struct InteractionCacheTests {
    /// A log whose users' rows are interleaved and out of time order, with ties, impression rows,
    /// quoted ids and two context columns.
    static func writeLog(rows: Int, seed: UInt64, to path: String) {
        var rng = RandomGenerator(seed: seed)
        var text = "user,item,timestamp,event,value,device,hour\n"
        for _ in 0..<rows {
            let user = "u\(rng.nextIndex(below: 40))", item = rng.nextIndex(below: 5) == 0 ? "\"m, \(rng.nextIndex(below: 30))\"" : "m\(rng.nextIndex(below: 60))"
            let event = ["click", "purchase", "impression", "view"][rng.nextIndex(below: 4)]
            text += "\(user),\(item),\(rng.nextIndex(below: 50)),\(event),\(rng.uniform()),\(rng.nextIndex(below: 3)),\(rng.uniform(0, 24))\n"
        }
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    /// Every column, user by user, and the vocabulary.
    static func expectSame(_ a: UserSequences, _ b: UserSequences) {
        #expect(a.itemIds == b.itemIds && a.contextColumns == b.contextColumns && a.userCount == b.userCount && a.count == b.count)
        #expect(Array(a.userStarts) == Array(b.userStarts))
        #expect(Array(a.timestamps) == Array(b.timestamps) && Array(a.items) == Array(b.items))
        #expect(Array(a.values) == Array(b.values) && Array(a.context) == Array(b.context))
        #expect((0..<a.count).allSatisfy { a.event($0) == b.event($0) })
    }

    /// Built in many passes (a few rows each), the cache holds what the log read into memory
    /// holds as sequences: the action rows by user, each user's by time with ties in file order.
    @Test func theCacheHoldsTheLogsActionsByUserInTimeOrder() throws {
        let directory = Scratch.path("cache")
        let source = directory + ".csv", cache = directory + "/logs/log.sequences"
        Self.writeLog(rows: 2_000, seed: 1, to: source)
        let expected = UserSequences(try LoggedInteractions.read(csv: source).actions())
        let opened = try InteractionCache.load(source, cache: cache, reading: .init(), bytesPerPass: 200)
        let digest = try SHA256.hex(ofFile: source).digest
        #expect(opened.builtBecause == "there was no cache" && opened.digest == digest)
        let log = try LoggedInteractions.read(csv: source)
        #expect(opened.impressionRows == log.count - log.actions().count && opened.impressionRows > 0)
        Self.expectSame(opened.sequences, expected)
        for user in 0..<expected.userCount {
            let rows = opened.sequences.rows(of: user)
            #expect(rows.dropFirst().allSatisfy { opened.sequences.timestamps[$0 - 1] <= opened.sequences.timestamps[$0] })
        }
        // Used as it is the second time, in one pass or many.
        let again = try InteractionCache.load(source, cache: cache)
        #expect(again.builtBecause == nil)
        Self.expectSame(again.sequences, expected)
    }

    /// A changed file is noticed by its digest and cached afresh; so is a cache that is damaged
    /// or hostile (cut short, an item index outside the catalogue, a user's rows ending before
    /// they start, impossible counts, no items, garbage): rebuilt, never trusted, never a crash.
    @Test func aChangedFileOrADamagedCacheIsBuiltAgain() throws {
        let directory = Scratch.path("changes")
        let source = directory + ".csv", cache = directory + "/log.sequences"
        Self.writeLog(rows: 500, seed: 2, to: source)
        _ = try InteractionCache.load(source, cache: cache)
        Self.writeLog(rows: 501, seed: 3, to: source)
        let expected = UserSequences(try LoggedInteractions.read(csv: source).actions())
        do {
            let changed = try InteractionCache.load(source, cache: cache)
            #expect(changed.builtBecause?.contains("the file changed since its cache was built") == true, "\(changed.builtBecause ?? "nil")")
            Self.expectSame(changed.sequences, expected)
        }
        // Each damaged cache replaces the file (a mapped file cut short in place would fault its readers).
        let good = try Data(contentsOf: URL(fileURLWithPath: cache))
        let layout = UserSequences.Layout(users: expected.userCount, rows: expected.count, contextWidth: 2)
        let body = good.count - layout.byteCount
        func damaged(_ change: (inout Data) -> Void, _ reason: String) throws {
            var bytes = good
            change(&bytes)
            try bytes.write(to: URL(fileURLWithPath: cache), options: .atomic)
            let rebuilt = try InteractionCache.load(source, cache: cache)
            #expect(rebuilt.builtBecause?.contains(reason) == true, "\(rebuilt.builtBecause ?? "nil") should say \(reason)")
            Self.expectSame(rebuilt.sequences, expected)
        }
        try damaged({ $0 = $0.prefix(1000) }, "its header makes it")
        try damaged({ $0.replaceSubrange((body + layout.items)..<(body + layout.items + 4), with: withUnsafeBytes(of: Int32(9_999)) { Data($0) }) },
                    "names item 9999")
        try damaged({ $0.replaceSubrange((body + 8)..<(body + 16), with: withUnsafeBytes(of: Int64(100_000)) { Data($0) }) }, "end")
        try damaged({ $0.replaceSubrange(16..<24, with: withUnsafeBytes(of: Int64.max) { Data($0) }) }, "impossible counts")
        // Found by fuzzing: a header naming no item trapped on slicing the ids.
        try damaged({ $0.replaceSubrange(32..<40, with: withUnsafeBytes(of: Int64(0)) { Data($0) }) }, "of a catalogue of 0")
        try damaged({ $0 = Data(repeating: 0x41, count: 5000) }, "does not start with")
    }

    /// A bad row stops the build with its file, line and column, as reading the file would, and
    /// leaves no cache behind.
    @Test func aBadRowIsAnErrorWithItsLine() throws {
        let directory = Scratch.path("bad")
        let source = directory + ".csv", cache = directory + "/log.sequences"
        _ = FileManager.default.createFile(atPath: source, contents: Data("user,item,timestamp,event\nu1,m1,5,click\nu1,m2,soon,click\n".utf8))
        #expect(throws: DataFileError(file: source, line: 3, column: "timestamp", "'soon' is not an integer number of seconds")) {
            try InteractionCache.load(source, cache: cache)
        }
        #expect(!FileManager.default.fileExists(atPath: cache))
        #expect((try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty ?? true)
    }

    /// Read with a model's catalogue, items are indexed as the catalogue has them and rows on
    /// other items are left out (users with none left are not numbered); skipping bad rows, an
    /// unreadable line is counted and named instead of stopping the build. Each reading has its
    /// own cache, beside the default one.
    @Test func aReadingWithACatalogueAndSkippedBadRowsHasACacheOfItsOwn() throws {
        let directory = Scratch.path("reading")
        let source = directory + ".csv"
        Self.writeLog(rows: 800, seed: 4, to: source)
        var text = try String(contentsOfFile: source, encoding: .utf8)
        text += "u3,m1,not-a-time,click,1,0,1\n"
        try text.write(toFile: source, atomically: true, encoding: .utf8)
        let catalogue = ["m7", "zz-never-logged"] + (0..<60).filter { $0 % 3 != 0 && $0 != 7 }.map { "m\($0)" }
        let reading = InteractionCache.Reading(items: catalogue, skippingBadRows: true)
        let cache = InteractionCache.path(for: source, in: directory, reading: reading)
        #expect(cache != InteractionCache.path(for: source, in: directory))
        let opened = try InteractionCache.load(source, cache: cache, reading: reading)

        let (full, bad, _) = try LoggedInteractions.read(csv: source, skippingBadRows: true)
        let actions = full.actions()
        var expected = LoggedInteractions(contextColumns: actions.contextColumns, items: catalogue)
        var unknown = 0
        for k in 0..<actions.count {
            let item = actions.itemIds[Int(actions.items[k])]
            guard expected.itemIndex(of: item) != nil else { unknown += 1; continue }
            expected.append(user: actions.userIds[Int(actions.users[k])], item: item, timestamp: actions.timestamps[k], event: actions.events[k],
                            value: actions.values[k], context: Array(actions.context[(2 * k)..<(2 * k + 2)]))
        }
        Self.expectSame(opened.sequences, UserSequences(expected))
        #expect(opened.unknownItemRows == unknown && unknown > 0)
        #expect(opened.badRows == 1 && bad.count == 1 && opened.firstBadRow == "\(bad[0].error)" && opened.firstBadRow?.contains(":802:") == true)
        #expect(try InteractionCache.load(source, cache: cache, reading: reading).builtBecause == nil)
        #expect(throws: DataFileError.self) { try InteractionCache.load(source, cache: InteractionCache.path(for: source, in: directory)) }
    }

    /// A build sweeps its directory: the cache of a log since deleted goes, as does what a dead
    /// build left; the cache of a log still there stays.
    @Test func aBuildRemovesTheCachesOfDeletedLogsAndDeadBuildsLitter() throws {
        let directory = Scratch.path("sweep")
        let (kept, deleted, fresh) = (directory + "-kept.csv", directory + "-deleted.csv", directory + "-fresh.csv")
        for (k, source) in [kept, deleted, fresh].enumerated() { Self.writeLog(rows: 100, seed: UInt64(10 + k), to: source) }
        let keptCache = InteractionCache.path(for: kept, in: directory), deletedCache = InteractionCache.path(for: deleted, in: directory)
        _ = try InteractionCache.load(kept, cache: keptCache)
        _ = try InteractionCache.load(deleted, cache: deletedCache)
        try FileManager.default.removeItem(atPath: deleted)
        let litter = directory + "/logs/gone.csv-0123456789abcdef.sequences.rows-999999999"
        _ = FileManager.default.createFile(atPath: litter, contents: Data([1, 2, 3]))
        _ = try InteractionCache.load(fresh, cache: InteractionCache.path(for: fresh, in: directory))
        #expect(FileManager.default.fileExists(atPath: keptCache))
        #expect(!FileManager.default.fileExists(atPath: deletedCache) && !FileManager.default.fileExists(atPath: litter))
        #expect(try InteractionCache.load(kept, cache: keptCache).builtBecause == nil)
    }
}
