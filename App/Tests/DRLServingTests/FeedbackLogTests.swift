import DRLData
import DRLRanking
import Foundation
import Testing
@testable import DRLServing

@Suite struct FeedbackLogTests {
    /// Concurrent appends all land, in the logged-interactions format, readable by the loader.
    @Test func concurrentAppendsAreReadBack() async throws {
        let path = Fixtures.scratchDirectory("feedback") + "/feedback.csv"
        let log = try FeedbackLog(path: path, contextColumns: ["stride"])
        try await Self.appendConcurrently(to: log)
        log.shutDown()
        let read = try LoggedInteractions.read(csv: path)
        #expect(read.count == 200)
        #expect(read.contextColumns == ["stride"])
        #expect(Set(read.userIds) == Set((0..<7).map { "u,\($0)" }))
        #expect(read.timestamps.sorted() == (0..<200).map(Int64.init))
    }

    /// 200 clicks appended from concurrent tasks: users "u,0" to "u,6" (a comma to quote),
    /// timestamps 0 to 199, a context column.
    static func appendConcurrently(to log: FeedbackLog) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for k in 0..<200 {
                group.addTask {
                    try await log.append(FeedbackEvent(user: "u,\(k % 7)", item: "i\(k % 24)", timestamp: Int64(k), event: .click,
                                                       value: 1, context: [Float(k % 3)]))
                }
            }
            try await group.waitForAll()
        }
    }

    /// With `written` durability an append is in the file when it returns, before any flush (the
    /// interval here is an hour): another reader of the file sees it, as a restart after a
    /// kill -9 does. Concurrent appends keep whole lines; a closed log refuses appends.
    @Test func aWrittenLogHoldsEveryAcknowledgedLineBeforeItsFlush() async throws {
        let path = Fixtures.scratchDirectory("feedback-written") + "/feedback.csv"
        let log = try FeedbackLog(path: path, contextColumns: ["stride"], durability: .written(flushInterval: .seconds(3600)))
        try await Self.appendConcurrently(to: log)
        #expect(log.end.appendedLines == 200)
        let read = try LoggedInteractions.read(csv: path)
        #expect(read.timestamps.sorted() == (0..<200).map(Int64.init))
        #expect(log.end.bytes == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int))
        log.shutDown()
        await #expect(throws: FeedbackLog.Failure.self) {
            try await log.append(FeedbackEvent(user: "late", item: "i0", timestamp: 999, event: .click, value: 1, context: [0]))
        }
        #expect(try LoggedInteractions.read(csv: path).count == 200)
    }

    /// A flush interval that is not positive is refused, naming the log.
    @Test func aWrittenLogNeedsAPositiveFlushInterval() throws {
        let path = Fixtures.scratchDirectory("feedback-interval") + "/feedback.csv"
        #expect {
            try FeedbackLog(path: path, contextColumns: [], durability: .written(flushInterval: .zero))
        } throws: { error in
            "\(error)".contains("feedback log") && "\(error)".contains("flush interval must be positive")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// A service start that fails after opening the feedback log (here the impression log has
    /// another header) shuts the log down: its thread ends and lets the file go. Before, each
    /// failed start kept a thread and the file open for the life of the process.
    @Test func aFailedStartLetsItsLogsGo() async throws {
        let directory = Fixtures.scratchDirectory("failed-start")
        let registry = try ModelRegistry(directory: directory)
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d")
        try registry.promote("v1")
        let feedback = directory + "/feedback.csv", impressions = directory + "/impressions.csv"
        FileManager.default.createFile(atPath: impressions, contents: Data("not,the,header\n".utf8))
        var configuration = RecommendationService.Configuration()
        configuration.impressionLogPath = impressions
        for _ in 0..<10 {
            #expect(throws: (any Error).self) { try RecommendationService(registry: registry, feedbackPath: feedback, configuration: configuration) }
        }
        /// Descriptors of this process open on the feedback log.
        func openOnFeedback() -> Int {
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
            return descriptors.count { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == feedback }
        }
        var open = openOnFeedback()
        for _ in 0..<100 where open > 0 {  // the threads end asynchronously
            try await Task.sleep(for: .milliseconds(20))
            open = openOnFeedback()
        }
        #expect(open == 0, "\(open) descriptors still open on the feedback log")
    }

    /// A damaged line in the feedback log (here a timestamp that is not a number, written by
    /// something other than the server) does not stop a restart: the line is left out of the
    /// replay, kept in the quarantine file once (not again at the next start), and the rest of
    /// the log is replayed. Before, the server refused to start on such a log.
    @Test func aBadLogLineDoesNotStopARestart() async throws {
        let directory = Fixtures.scratchDirectory("bad-line")
        let registry = try ModelRegistry(directory: directory)
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d")
        try registry.promote("v1")
        let feedback = directory + "/feedback.csv"
        let first = try RecommendationService(registry: registry, feedbackPath: feedback)
        try await first.feedback(FeedbackEvent(user: "u1", item: "i3", timestamp: 10, event: .click, context: [1]))
        first.feedbackLog.shutDown()
        let handle = try #require(FileHandle(forWritingAtPath: feedback))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("u2,i4,soon,click,1,,,,,,1\n".utf8))
        try handle.close()
        for _ in 0..<2 {
            let again = try RecommendationService(registry: registry, feedbackPath: feedback)
            again.feedbackLog.shutDown()
            #expect(again.badLogLines.map(\.line) == [3] && again.badLogLines.first?.error.column == "timestamp")
            let answer = try await again.recommend(RecommendRequest(user: "u1", k: 3))  // u1's click was replayed
            #expect(answer.items.count == 3)
        }
        let kept = try String(contentsOfFile: LogQuarantine.path(of: feedback), encoding: .utf8)
        #expect(kept == "3:u2,i4,soon,click,1,,,,,,1\n")
    }

    /// A log written before feedback could name its list keeps its header: it opens, and feedback
    /// is appended to it without the list.
    @Test func anEarlierLogKeepsItsHeader() async throws {
        let path = Fixtures.scratchDirectory("feedback") + "/feedback.csv"
        try Data("user,item,timestamp,event,value,propensity,age\nu1,i1,1,click,1.0,,30.0\n".utf8).write(to: URL(fileURLWithPath: path))
        let log = try FeedbackLog(path: path, contextColumns: ["age"])
        #expect(!log.keepsServedLists)
        try await log.append(FeedbackEvent(user: "u2", item: "i2", timestamp: 2, event: .click, context: [40],
                                           served: .init(impression: "r", position: 1, version: "v1", arm: "control")))
        log.shutDown()
        let read = try LoggedInteractions.read(csv: path)
        #expect(read.userIds == ["u1", "u2"] && read.context == [30, 40] && !read.hasServedRows)
        let fresh = try FeedbackLog(path: Fixtures.scratchDirectory("feedback") + "/new.csv", contextColumns: ["age"])
        defer { fresh.shutDown() }
        #expect(fresh.keepsServedLists)
    }

    /// An incomplete last line (a crash in the middle of an unacknowledged write) is cut off when
    /// the log is opened again; a file with another header is refused.
    @Test func cutsATornTailAndChecksTheHeader() async throws {
        let path = Fixtures.scratchDirectory("feedback") + "/feedback.csv"
        let log = try FeedbackLog(path: path, contextColumns: [])
        try await log.append(FeedbackEvent(user: "a", item: "i1", timestamp: 1, event: .click))
        log.shutDown()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("b,i2,2,cli".utf8))
        try handle.close()
        let reopened = try FeedbackLog(path: path, contextColumns: [])
        try await reopened.append(FeedbackEvent(user: "c", item: "i3", timestamp: 3, event: .purchase))
        reopened.shutDown()
        let read = try LoggedInteractions.read(csv: path)
        #expect(read.userIds == ["a", "c"])
        #expect(throws: FeedbackLog.Failure.self) { try FeedbackLog(path: path, contextColumns: ["age"]) }

        // A crash while a new log's header was being written leaves a prefix of it: started again.
        let torn = Fixtures.scratchDirectory("feedback") + "/feedback.csv"
        try Data("user,it".utf8).write(to: URL(fileURLWithPath: torn))
        let fresh = try FeedbackLog(path: torn, contextColumns: [])
        try await fresh.append(FeedbackEvent(user: "d", item: "i4", timestamp: 4, event: .click))
        fresh.shutDown()
        #expect(try LoggedInteractions.read(csv: torn).userIds == ["d"])
    }
}
