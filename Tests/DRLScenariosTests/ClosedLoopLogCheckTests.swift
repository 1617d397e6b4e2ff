import DRLData
import DRLEvaluation
@testable import DRLScenarios
import DRLServing
import Foundation
import ScratchFiles
import Testing

/// The closed loop's check, each night, that the service's logs hold the day's traffic: every list
/// it answered in its impression log, at least as many feedback rows as it acknowledged.
@Suite struct ClosedLoopLogCheckTests {
    /// Rows (user, item, time, event, list, position) written as the service writes its logs, read back.
    static func log(_ rows: [(user: String, item: String, time: Int64, event: FeedbackKind, list: String, position: Int)]) throws -> LoggedInteractions {
        var text = LoggedInteractions.csvHeader(servedColumns: true, contextColumns: []) + "\n"
        for row in rows {
            let served = LoggedInteractions.Served(impression: row.list, position: row.position, version: "v1", arm: "control")
            text += LoggedInteractions.csvRow(user: row.user, item: row.item, timestamp: row.time, event: row.event, value: 1,
                                              propensity: row.event == .impression ? 1 : .nan, served: served, servedColumns: true,
                                              context: [Float]()) + "\n"
        }
        let path = Scratch.path("served.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return try LoggedInteractions.read(csv: path)
    }

    static func user(_ id: String, lists: [String], feedback: Int) -> ServedUserOutcome {
        ServedUserOutcome(user: id, arm: .control, versions: lists.map { _ in "v1" }, impressions: lists, feedbackPosted: feedback,
                          listRewards: lists.map { _ in 0 }, simulatedReturn: 0, measures: [:])
    }

    @Test func aListMissingFromTheLogOrFeedbackLostStopsTheLoop() throws {
        let impressions = try Self.log([("u", "a", 10, .impression, "L1", 1), ("u", "b", 10, .impression, "L1", 2),
                                        ("w", "c", 20, .impression, "L2", 1)])
        let feedback = try Self.log([("u", "b", 11, .click, "L1", 2), ("w", "c", 21, .click, "L2", 1)])
        let served = try ServedSlateLog(impressions: impressions, named: "imp.csv", feedback: feedback, named: "fb.csv") { _, _ in 1 }
        let logs = (log: served, feedback: feedback)
        // Everything answered is logged: no complaint.
        try ClosedLoop.checkLogged([Self.user("u", lists: ["L1"], feedback: 1), Self.user("w", lists: ["L2"], feedback: 1)], since: 5, in: logs)
        // A list the service answered but did not log.
        #expect { try ClosedLoop.checkLogged([Self.user("u", lists: ["L1", "L9"], feedback: 1)], since: 5, in: logs) } throws: {
            "\($0)" == "1 lists the service answered are not in its impression log (the first: L9)"
        }
        // Lists logged before the day began are not today's.
        #expect { try ClosedLoop.checkLogged([Self.user("u", lists: ["L1"], feedback: 0)], since: 15, in: logs) } throws: {
            "\($0)".contains("(the first: L1)")
        }
        // More feedback acknowledged than the log holds since the day began.
        #expect { try ClosedLoop.checkLogged([Self.user("u", lists: ["L1"], feedback: 2), Self.user("w", lists: ["L2"], feedback: 1)], since: 5, in: logs) } throws: {
            "\($0)" == "the service acknowledged 3 feedback events today and its feedback log holds 2"
        }
    }
    /// The released candidates' estimates against what they realised: covered when the estimate's
    /// interval holds the realised value; consistent when the two differ by no more than their
    /// errors together allow (1.96 × the root of the sum of the squared standard errors, each an
    /// interval's width / 3.92).
    @Test func estimatesAreCheckedAgainstTheRealisedValues() {
        func day(_ d: Int, estimate: (Double, Double, Double)?, realised: (Double, Double, Double)?) -> ClosedLoop.DayReport {
            ClosedLoop.DayReport(day: d, arms: [], candidate: estimate == nil ? nil : "v\(d)",
                                 estimate: estimate.map { .init(value: $0.0, low: $0.1, high: $0.2) },
                                 realised: realised.map { .init(value: $0.0, low: $0.1, high: $0.2) }, events: [])
        }
        let reports = [
            day(1, estimate: nil, realised: nil),
            // Covered, estimated above.
            day(2, estimate: (1.0, 0.9, 1.1), realised: (0.95, 0.5, 1.4)),
            // Not covered, but within the combined error: |1 − 1.3| = 0.3 ≤ 1.96·√(0.051² + 0.153²) = 0.316.
            day(3, estimate: (1.0, 0.9, 1.1), realised: (1.3, 1.0, 1.6)),
            // Neither: |1 − 1.5| = 0.5 > 0.316.
            day(4, estimate: (1.0, 0.9, 1.1), realised: (1.5, 1.2, 1.8)),
            // An estimate without a realised value (the last night's release) is not judged.
            day(5, estimate: (1.0, 0.9, 1.1), realised: nil),
        ]
        #expect(ClosedLoop.estimateCheck(reports) == .init(judged: 3, covered: 1, above: 1, consistent: 2))
    }
}
