import DRLData
import DRLEvaluation
import DRLTensor
import Foundation
import ScratchFiles
import Testing

@Suite struct RankingEvaluationTests {

    static func log(_ rows: [(String, String, Int64)]) -> LoggedInteractions {
        var log = LoggedInteractions()
        for (user, item, time) in rows { log.append(user: user, item: item, timestamp: time, event: .click) }
        return log
    }

    /// Per user, by time (ties in log order): the last item is the test, the one before the
    /// validation; users with fewer than three interactions only train.
    @Test func theSplitHoldsOutTheLastTwoByTime() {
        let split = LeaveOneOutSplit(Self.log([("a", "x", 30), ("a", "y", 10), ("b", "x", 5), ("a", "z", 20), ("a", "w", 30), ("b", "y", 6)]))
        // a: y(10), z(20), x(30), w(30) — x before w in the log.
        #expect(Array(split.train[0]) == [1, 2] && split.validation[0] == 0 && split.test[0] == 3)
        #expect(Array(split.train[1]) == [0, 1] && split.validation[1] == nil && split.test[1] == nil)
        #expect(split.trainingCounts == [1, 2, 1, 0])
    }

    /// Ranks by hand: with scores 0.9, 0.8, … over items 0…5, a held-out item of rank r (0-based,
    /// after the user's training items are left out) gives HR 1, NDCG 1/log₂(r + 2), MRR 1/(r + 1).
    @Test func metricsFollowTheHeldOutItemsRank() {
        // User a trains on "0", validates on "1" and tests on "3"; b trains on "5", validates on "2"
        // and tests on "4"; c only trains.
        let split = LeaveOneOutSplit(Self.log([("a", "0", 1), ("a", "1", 2), ("a", "3", 3), ("b", "5", 1), ("b", "2", 2), ("b", "4", 3),
                                               ("c", "2", 1)]))
        // Item indices follow first appearance: "0"→0, "1"→1, "3"→2, "5"→3, "2"→4, "4"→5.
        let order: [Float] = [0.9, 0.8, 0.5, 0.6, 0.7, 0.3]  // by index: "0" 0.9, "1" 0.8, "3" 0.5, "5" 0.6, "2" 0.7, "4" 0.3
        let metrics = evaluateRanking(split, on: .test, k: 3) { _, scores in
            for (i, s) in order.enumerated() { scores[flat: i] = s }
        }
        // a: excluded "0", "1"; remaining by score: "2"(0.7), "5"(0.6), "3"(0.5) → "3" has rank 2.
        // b: excluded "5", "2"; remaining: "0"(0.9), "1"(0.8), "3"(0.5), "4"(0.3) → "4" has rank 3, outside the top 3.
        #expect(metrics.users == 2)
        #expect(abs(metrics.hitRate - 0.5) < 1e-12)
        #expect(abs(metrics.ndcg - 0.5 / log2(4)) < 1e-12)
        #expect(abs(metrics.mrr - 0.5 / 3) < 1e-12)
        // Top-3 lists: a gets "2", "5", "3"; b gets "0", "1", "3": 5 distinct items of 6.
        #expect(abs(metrics.coverage - 5.0 / 6) < 1e-12)
    }

    /// Several cutoffs from one ranking are the single-cutoff evaluations, and the top-k lists'
    /// intra-list diversity is the share of their pairs in different categories, by hand.
    @Test func cutoffsMatchSingleEvaluationsAndDiversityCountsPairs() {
        let split = LeaveOneOutSplit(Self.log([("a", "0", 1), ("a", "1", 2), ("a", "3", 3), ("b", "5", 1), ("b", "2", 2), ("b", "4", 3),
                                               ("c", "2", 1)]))
        let order: [Float] = [0.9, 0.8, 0.5, 0.6, 0.7, 0.3]
        let fill = { (_: Int, scores: inout Tensor) in for (i, s) in order.enumerated() { scores[flat: i] = s } }
        // Categories by index: 0, 0, 1, 1, 2, 0.
        let categories: [Int32] = [0, 0, 1, 1, 2, 0]
        let together = evaluateRanking(split, on: .test, cutoffs: [3, 1, 4], categories: categories, score: fill)
        #expect(together.map(\.k) == [3, 1, 4])
        for metrics in together {
            let alone = evaluateRanking(split, on: .test, k: metrics.k, score: fill)
            #expect(metrics.hitRate == alone.hitRate && metrics.ndcg == alone.ndcg && metrics.mrr == alone.mrr)
            #expect(metrics.coverage == alone.coverage && metrics.novelty == alone.novelty && metrics.userTopItems == alone.userTopItems)
            #expect(alone.intraListDiversity == nil)
        }
        // Top 3: a gets indices 4, 3, 2 (categories 2, 1, 1: 2 of 3 pairs differ); b gets 0, 1, 2
        // (0, 0, 1: 2 of 3). Top 4 adds 5 for a (category 0: 5 of 6 differ) and 5 for b (0: 3 of 6).
        #expect(abs(together[0].intraListDiversity! - 2.0 / 3) < 1e-12)
        #expect(together[1].intraListDiversity == 0)
        #expect(abs(together[2].intraListDiversity! - (5.0 / 6 + 3.0 / 6) / 2) < 1e-12)
    }

    /// RecBole's atomic files: ratings with the raters' age and gender; bad rows name their line.
    @Test func readsMovieLensAndRefusesBadRows() throws {
        let directory = Scratch.directory("ml")
        func write(_ name: String, _ text: String) { _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data(text.utf8)) }
        write(MovieLens100K.usersFile, "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n1\t24\tM\ttechnician\t85711\n2\t53\tF\tother\t94043\n")
        write(MovieLens100K.itemsFile, "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n10\tA\t1995\tDrama Comedy\n20\tB\t1996\tAction\n")
        write(MovieLens100K.ratingsFile, "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t100\n2\t20\t5\t90\n1\t20\t3\t110\n")
        let (log, genres) = try MovieLens100K.load(directory: directory)
        #expect(log.count == 3 && log.userIds == ["1", "2"] && log.itemIds == ["10", "20"] && log.values == [4, 5, 3])
        #expect(log.contextColumns == ["age", "female"] && log.context == [24, 0, 53, 1, 24, 0])
        #expect(genres == [["Drama", "Comedy"], ["Action"]] && log.events.allSatisfy { $0 == .rating })
        for (text, line, column) in [("1\t10\t6\t100\n", 2, "rating"), ("1\t10\t4\t100\n3\t10\t4\t100\n", 3, "user_id"),
                                     ("1\t10\t4\t1.5\n", 2, "timestamp"), ("1\t10\t4\n", 2, nil as String?)] {
            write(MovieLens100K.ratingsFile, "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + text)
            do {
                _ = try MovieLens100K.load(directory: directory)
                Issue.record("loaded bad ratings: \(text)")
            } catch {
                #expect(error.line == line && error.column == column, "\(error)")
            }
        }
    }

    /// A model compared with itself differs by exactly nothing; per-user values average to the metrics.
    @Test func pairedComparisonsOfRankings() {
        let split = LeaveOneOutSplit(Self.log((0..<40).flatMap { u in (0..<4).map { t in ("u\(u)", "i\((u + t) % 9)", Int64(t)) } }))
        var rng = RandomGenerator(seed: 1)
        let metrics = evaluateRanking(split, on: .test, k: 3) { _, scores in for i in 0..<scores.count { scores[flat: i] = rng.uniform() } }
        #expect(metrics.userHits.count == 40 && abs(Double(metrics.userGains.reduce(0, +)) / 40 - metrics.ndcg) < 1e-6)
        #expect(metrics.userTopItems.count == 120 && abs(Double(metrics.userNovelty.reduce(0, +)) / 40 - metrics.novelty) < 1e-5)
        let rows = compareRankings(control: metrics, treatment: metrics, k: 3, resamples: 200)
        #expect(rows.map(\.metric) == ["hr@3", "ndcg@3", "mrr@3", "coverage", "novelty"])
        for row in rows {
            #expect(row.difference == 0 && row.ciLow == 0 && row.ciHigh == 0)
        }
        #expect(abs(Double(rows[3].control) - metrics.coverage) < 1e-6 && abs(Double(rows[4].control) - metrics.novelty) < 1e-5)
        // A model that shows everyone the same three items covers less of the catalogue, surely.
        let same = evaluateRanking(split, on: .test, k: 3) { _, scores in for i in 0..<scores.count { scores[flat: i] = Float(i) } }
        let narrower = compareRankings(control: metrics, treatment: same, k: 3, resamples: 200)[3]
        #expect(narrower.difference < 0 && narrower.ciHigh < 0, "\(narrower)")
    }
}
