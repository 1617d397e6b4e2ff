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

    /// A write the file system refuses part of the way (here the file-size limit, `ulimit -f`, as
    /// a full disk would) is not acknowledged and leaves no fragment behind: the log is cut back
    /// to the lines it acknowledged, every one of which is there, so that an append that fits
    /// later starts a line of its own. A `drlrec serve` under the limit, with each durability.
    @Test(arguments: [false, true])
    func aFailedWriteLeavesNoFragment(written: Bool) throws {
        let directory = Fixtures.scratchDirectory("file-size-limit")
        let registry = try ModelRegistry(directory: directory + "/registry")
        try registry.register(checkpoint: Fixtures.cycleCheckpoint, scenario: "cycle", dataHash: "d")
        try registry.promote("v1")
        let log = directory + "/serve.log", answers = directory + "/answers.txt"
        // SIGXFSZ ignored, so that a write past the limit fails with EFBIG instead of ending the
        // server; 16 blocks of 512 bytes hold the header and a few hundred clicks.
        let script = #"trap '' XFSZ; ulimit -f 16; "$1" serve --registry "$2" --port 0 $5 > "$3" 2>&1 < /dev/null & server=$!; "#
            + #"for i in $(seq 600); do grep -q '^serving ' "$3" && break; sleep 0.1; done; "#
            + #"port=$(sed -n 's/^serving .* on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$3"); "#
            + #"python3 -c 'import sys, json, urllib.request as r"# + "\n"
            + #"for k in range(2000):"# + "\n"
            + #"    body = json.dumps({"user_id": "u%d" % k, "item_id": "i3", "event": "click", "timestamp": k}).encode()"# + "\n"
            + #"    request = r.Request("http://127.0.0.1:%s/v1/feedback" % sys.argv[1], data=body, headers={"Content-Type": "application/json"})"# + "\n"
            + #"    try: status = r.urlopen(request).status"# + "\n"
            + #"    except Exception as e: status = getattr(e, "code", 0)"# + "\n"
            + #"    print(status)"# + "\n"
            + #"    if status != 200: break' "$port" > "$4"; kill $server; wait $server"#
        let status = try ServedPoliciesTests.shell(script, [CommandLineTests.tool, registry.directory, log, answers,
                                                            written ? "--log-flush-interval 1" : ""])
        let text = String(decoding: FileManager.default.contents(atPath: answers) ?? Data(), as: UTF8.self)
        let statuses = text.split(separator: "\n")
        let acknowledged = statuses.prefix { $0 == "200" }.count
        try #require(status == 0 && acknowledged > 20 && statuses.count == acknowledged + 1,
                     "exit \(status); answers \(statuses.suffix(3)); server: \(String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self))")
        let file = try #require(FileManager.default.contents(atPath: registry.directory + "/feedback.csv"))
        #expect(file.last == UInt8(ascii: "\n"))
        let read = try LoggedInteractions.read(csv: registry.directory + "/feedback.csv")
        #expect(read.timestamps == (0..<Int64(acknowledged)).map { $0 })
    }

    /// A write that fails part of the way and a cut back that fails too (here both made to fail
    /// by replacing the log's system calls: the write leaves half its line) poison the log: every
    /// later append fails, naming the cut, instead of continuing the fragment into a line that
    /// reads as one bad line with the next. Reopened (a restart), the log cuts the fragment off
    /// and appends again; with each durability.
    @Test(arguments: [false, true])
    func anUncutFragmentRefusesLaterAppends(written: Bool) async throws {
        let path = Fixtures.scratchDirectory("uncut-fragment") + "/events.csv"
        let durability: AppendOnlyLog.Durability = written ? .written(flushInterval: .seconds(3600)) : .synced
        let log = try AppendOnlyLog(path: path, name: "test log", header: "n\n", durability: durability)
        try await log.append(Array("1\n".utf8))
        log.writeFile = { fd, bytes, path throws(DurableFile.Failure) in
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, bytes.count / 2) }
            errno = ENOSPC
            throw DurableFile.Failure(description: "writing '\(path)' failed: \(DurableFile.systemError())")
        }
        log.truncateFile = { _, _ in errno = EIO; return -1 }
        await #expect { try await log.append(Array("2222\n".utf8)) } throws: { "\($0)".contains("No space left") }
        log.writeFile = { fd, bytes, path throws(DurableFile.Failure) in try DurableFile.writeAll(fd, bytes, path: path) }
        log.truncateFile = { ftruncate($0, $1) }
        await #expect { try await log.append(Array("3\n".utf8)) } throws: { error in
            "\(error)".contains("cutting the test log '\(path)' back to its acknowledged lines failed too")
        }
        #expect(log.end.appendedLines == 1)
        log.shutDown()
        #expect(String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) == "n\n1\n22")
        let reopened = try AppendOnlyLog(path: path, name: "test log", header: "n\n", durability: durability)
        try await reopened.append(Array("3\n".utf8))
        reopened.shutDown()
        #expect(String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) == "n\n1\n3\n")
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
