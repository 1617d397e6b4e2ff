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
        let opened = try InteractionCache.load(source, cache: cache, bytesPerPass: 200)
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
    /// they start, garbage): rebuilt, never trusted, never a crash.
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
}
