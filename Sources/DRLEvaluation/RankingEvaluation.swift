import DRLData
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Top-k ranking quality on held-out items.
public struct RankingMetrics: Sendable, Equatable {
    /// HR@k, NDCG@k and MRR@k: shares of users whose held-out item is in their top k, its mean
    /// discounted gain 1/log₂(rank + 1) and mean reciprocal rank (0 beyond k).
    public var hitRate: Double, ndcg: Double, mrr: Double
    /// Distinct items in all top-k lists, as a share of the catalogue.
    public var coverage: Double
    /// Mean self-information −log₂ p(i) of the recommended items, p from the training counts
    /// (add-one smoothed): higher means less popular items.
    public var novelty: Double
    /// Intra-list diversity: the mean over users of the share of pairs in their top k whose items
    /// are in different categories (nil when the evaluation was given no categories).
    public var intraListDiversity: Double?
    public var users: Int
    /// The cutoff k of every @k metric.
    public var k = 10
    /// Each evaluated user's hit, discounted gain and reciprocal rank (0 beyond k), in user
    /// order, for paired comparisons of two models on the same users.
    public var userHits: [Float] = [], userGains: [Float] = [], userReciprocalRanks: [Float] = []
    /// Each evaluated user's top-k items (k per user, in user order) and their mean self-information.
    public var userTopItems: [Int32] = [], userNovelty: [Float] = []
    /// The catalogue size coverage divides by.
    public var catalogue = 0
}

/// Which held-out item an evaluation ranks.
public enum HeldOut: Sendable { case validation, test }

/// Ranks every item for each user with a held-out item: `score(user, scores)` fills one score per
/// item; the user's other known items (training, and the validation item when testing) are left
/// out; the held-out item's rank counts the items scored above it (ties go to the lower index, as
/// in the top-k list).
public func evaluateRanking(_ split: LeaveOneOutSplit, on heldOut: HeldOut, k: Int = 10,
                            score: (Int, inout Tensor) -> Void) -> RankingMetrics {
    evaluateRanking(split, on: heldOut, cutoffs: [k], score: score)[0]
}

/// `evaluateRanking` at several cutoffs from one ranking per user, one `RankingMetrics` per
/// cutoff in the order given. With one held-out item per user, recall@k is HR@k. With
/// `categories` (one per item), each cutoff also has its top-k lists' intra-list diversity.
/// With `users` (ascending), only those users are ranked, and `score` is called for them in that
/// order (nil: every user with a held-out item).
public func evaluateRanking(_ split: LeaveOneOutSplit, on heldOut: HeldOut, users: [Int]? = nil, cutoffs: [Int], categories: [Int32]? = nil,
                            score: (Int, inout Tensor) -> Void) -> [RankingMetrics] {
    require(!cutoffs.isEmpty && cutoffs.allSatisfy { $0 >= 1 && $0 <= split.items },
            "evaluateRanking: cutoffs \(cutoffs) must be in 1...\(split.items)")
    require(categories.map { $0.count == split.items } ?? true, "evaluateRanking: \(categories?.count ?? 0) categories for \(split.items) items")
    let longest = cutoffs.max()!
    let counts = split.trainingCounts, total = counts.reduce(0, +)
    let selfInformation = counts.map { -log2((Double($0) + 1) / (Double(total) + Double(split.items))) }
    var scores = Tensor(zeros: Shape(split.items))
    var values = Tensor(zeros: Shape(1, longest)), top = [Int32](repeating: 0, count: longest)
    var shown = [[Bool]](repeating: [Bool](repeating: false, count: split.items), count: cutoffs.count)
    var results = cutoffs.map { RankingMetrics(hitRate: 0, ndcg: 0, mrr: 0, coverage: 0, novelty: 0,
                                               intraListDiversity: categories == nil ? nil : 0, users: 0, k: $0) }
    var novelty = [Double](repeating: 0, count: cutoffs.count)
    for user in users ?? Array(0..<split.users) {
        guard let target = heldOut == .test ? split.test[user] : split.validation[user] else { continue }
        score(user, &scores)
        for item in split.train[user] where item != target { scores[flat: Int(item)] = -.infinity }
        if heldOut == .test, let other = split.validation[user], other != target { scores[flat: Int(other)] = -.infinity }
        let value = scores[flat: Int(target)]
        var rank = 0
        scores.withUnsafeBufferPointer { s in
            for i in 0..<split.items where s[i] > value || (s[i] == value && i < Int(target)) { rank += 1 }
        }
        topK(scores.reshaped(Shape(1, split.items)), k: longest, values: &values, indices: &top)
        for (c, k) in cutoffs.enumerated() {
            let hit = rank < k, gain = hit ? 1 / log2(Double(rank) + 2) : 0, reciprocal = hit ? 1 / Double(rank + 1) : 0
            results[c].users += 1
            results[c].hitRate += hit ? 1 : 0
            results[c].ndcg += gain
            results[c].mrr += reciprocal
            results[c].userHits.append(hit ? 1 : 0)
            results[c].userGains.append(Float(gain))
            results[c].userReciprocalRanks.append(Float(reciprocal))
            var information = 0.0
            for item in top[..<k] {
                shown[c][Int(item)] = true
                information += selfInformation[Int(item)]
            }
            novelty[c] += information
            results[c].userTopItems.append(contentsOf: top[..<k])
            results[c].userNovelty.append(Float(information / Double(k)))
            if let categories, k > 1 {
                var different = 0
                for a in 0..<k { for b in (a + 1)..<k where categories[Int(top[a])] != categories[Int(top[b])] { different += 1 } }
                results[c].intraListDiversity! += Double(different) / Double(k * (k - 1) / 2)
            }
        }
    }
    for c in cutoffs.indices {
        let n = Double(max(results[c].users, 1))
        results[c].hitRate /= n
        results[c].ndcg /= n
        results[c].mrr /= n
        results[c].intraListDiversity = results[c].intraListDiversity.map { $0 / n }
        results[c].novelty = novelty[c] / (n * Double(cutoffs[c]))
        results[c].coverage = Double(shown[c].filter { $0 }.count) / Double(split.items)
        results[c].catalogue = split.items
    }
    return results
}

/// A model's ranking metrics as a population report: HR, NDCG, MRR, the catalogue coverage of
/// the top-k lists and their novelty, each over any subset of the evaluated users (in user order),
/// so that bootstrap comparisons can draw users.
public struct RankingReport: PopulationReport {
    public let policy: String
    public let metrics: RankingMetrics
    public static let metricNames = ["hr", "ndcg", "mrr", "coverage", "novelty"]

    public init(policy: String, metrics: RankingMetrics) {
        require(metrics.userTopItems.count == metrics.k * metrics.userHits.count,
                "RankingReport: \(metrics.userTopItems.count) listed items for \(metrics.userHits.count) users at k = \(metrics.k)")
        (self.policy, self.metrics) = (policy, metrics)
    }

    public var userCount: Int { metrics.userHits.count }

    public func value(of metric: String, over subset: [Int]) -> Float {
        func mean(_ values: [Float]) -> Float { subset.reduce(Float(0)) { $0 + values[$1] } / Float(subset.count) }
        switch metric {
        case "hr": return mean(metrics.userHits)
        case "ndcg": return mean(metrics.userGains)
        case "mrr": return mean(metrics.userReciprocalRanks)
        case "novelty": return mean(metrics.userNovelty)
        case "coverage":
            // Distinct items in the drawn users' lists, over the catalogue.
            let k = metrics.k
            var shown = [Bool](repeating: false, count: metrics.catalogue), distinct = 0
            for user in subset {
                for item in metrics.userTopItems[(user * k)..<((user + 1) * k)] where !shown[Int(item)] {
                    shown[Int(item)] = true
                    distinct += 1
                }
            }
            return Float(distinct) / Float(metrics.catalogue)
        default: requirementFailure("RankingReport: unknown metric '\(metric)'; it has \(Self.metricNames)")
        }
    }
}

/// Compares two models' ranking metrics on the same users with paired bootstrap intervals of the
/// differences (treatment − control) in HR, NDCG, MRR, catalogue coverage of the top-k lists and
/// their novelty (named hr@k, ndcg@k, mrr@k, coverage, novelty).
public func compareRankings(control: RankingMetrics, treatment: RankingMetrics, k: Int = 10, resamples: Int = 1_000,
                            seed: UInt64 = 0) -> [MetricComparison] {
    require(control.userHits.count == treatment.userHits.count,
            "compareRankings: the models were evaluated on \(control.userHits.count) and \(treatment.userHits.count) users")
    require(control.k == k && treatment.k == k, "compareRankings: the metrics must come from evaluations at k = \(k)")
    return compare(control: RankingReport(policy: "control", metrics: control), treatment: RankingReport(policy: "treatment", metrics: treatment),
                   resamples: resamples, seed: seed).map {
        MetricComparison(metric: ["hr", "ndcg", "mrr"].contains($0.metric) ? "\($0.metric)@\(k)" : $0.metric, control: $0.control,
                         treatment: $0.treatment, difference: $0.difference, relativeChange: $0.relativeChange, ciLow: $0.ciLow,
                         ciHigh: $0.ciHigh, confidence: $0.confidence)
    }
}
