import DRLEvaluation
import DRLReport
import DRLScenarios
import Foundation

/// `drlrec evaluate --report`: the ranking metrics of every model (with the seeds' spread under
/// --seeds) and each RL agent's differences from the sequential ranker with their intervals.
extension EvaluateCommand {
    private static var headline: [(String, (RankingMetrics) -> Double)] { [("HR@10", \.hitRate), ("NDCG@10", \.ndcg), ("MRR@10", \.mrr)] }

    /// A model's name without the settings validation chose ("als (λ 0.1, α 10)" is "als").
    private static func modelName(_ label: String) -> String {
        String(label.prefix { $0 != "(" && $0 != "," }).trimmingCharacters(in: .whitespaces)
    }

    func evaluationReport(_ result: LeaveOneOutEvaluation.Report, dataset: String) -> HTMLReport {
        var report = HTMLReport.ofThisCommand("drlrec evaluate on \(dataset), seed \(seed)")
        report.blocks.append(.paragraph("Leave-one-out by time: each user's last interaction is the test item; every model ranks all the items "
                                        + "the user has not interacted with; \(result.testUsers) test users."))
        report.blocks.append(.heading("Ranking metrics"))
        report.blocks.append(.chart(BarChart(
            id: "ranking-metrics", title: "Each model's ranking metrics at k = 10 on the test items", groups: Self.headline.map(\.0),
            yLabel: "metric at k = 10",
            series: result.rows.map { row in .init(name: Self.modelName(row.model), samples: Self.headline.map { [$0.1(row.metrics)] }) })))
        for (c, k) in (result.rows.first?.cutoffs.map(\.k) ?? []).enumerated() {
            report.blocks.append(.table(["model", "HR@\(k)", "NDCG@\(k)", "MRR@\(k)", "coverage", "novelty", "diversity", "time"], result.rows.map { row in
                let m = row.cutoffs[c]
                return [row.model, String(format: "%.4f", m.hitRate), String(format: "%.4f", m.ndcg), String(format: "%.4f", m.mrr),
                        String(format: "%.4f", m.coverage), String(format: "%.2f", m.novelty), m.intraListDiversity.map { String(format: "%.4f", $0) } ?? "–",
                        String(format: "%.1f s", row.seconds)]
            }))
        }
        if !result.comparisons.isEmpty {
            let rows = result.comparisons.flatMap { agent, differences in
                differences.map { (label: "\(agent.rawValue): \($0.metric)", metric: $0.metric, estimate: Double($0.difference),
                                   low: Double($0.ciLow), high: Double($0.ciHigh)) }
            }
            report.blocks += Self.differenceBlocks(rows, title: "Each RL agent's difference from the sequential ranker on the same users, with its 95% paired bootstrap interval")
        }
        return report
    }

    /// The RL agents' differences: the ranking metrics (one scale) as a chart, every metric in a table.
    private static func differenceBlocks(_ rows: [(label: String, metric: String, estimate: Double, low: Double, high: Double)], title: String)
        -> [HTMLReport.Block] {
        let ranking = rows.filter { ["hr", "ndcg", "mrr"].contains($0.metric) }
        return [.heading("The RL agents against the sequential ranker"),
                .chart(IntervalChart(id: "agent-differences", title: title + " (HR, NDCG and MRR at k = 10; every metric in the table)",
                                     axisLabel: "difference at k = 10",
                                     rows: ranking.map { .init(label: $0.label, estimate: $0.estimate, low: $0.low, high: $0.high) })),
                .table(["agent: metric", "difference", "95% interval"], rows.map {
                    [$0.label, String(format: "%+.4f", $0.estimate), String(format: "[%+.4f, %+.4f]", $0.low, $0.high) + ($0.low > 0 || $0.high < 0 ? " *" : "")]
                })]
    }

    func seedsReport(_ result: LeaveOneOutEvaluation.SeedsReport, dataset: String) -> HTMLReport {
        var report = HTMLReport.ofThisCommand("drlrec evaluate on \(dataset), seeds \(result.seeds.map(String.init).joined(separator: ", "))")
        report.blocks.append(.paragraph("Every model trained and tested once per seed, leave-one-out by time."))
        report.blocks.append(.heading("Ranking metrics over the seeds"))
        let models = result.reports[0].rows.map { Self.modelName($0.model) }
        report.blocks.append(.chart(BarChart(
            id: "ranking-metrics", title: "Each model's ranking metrics at k = 10: the bar is the mean over the seeds, a dot each seed",
            groups: Self.headline.map(\.0), yLabel: "metric at k = 10",
            series: models.indices.map { i in
                .init(name: models[i], samples: Self.headline.map { _, value in result.reports.map { value($0.rows[i].metrics) } })
            })))
        report.blocks.append(.table(["model"] + Self.headline.map(\.0), models.indices.map { i in
            [models[i]] + Self.headline.map { _, value in
                let (mean, variance) = sampleMoments(result.reports.map { value($0.rows[i].metrics) })
                return String(format: "%.4f ± %.4f", mean, variance.squareRoot())
            }
        }))
        if !result.comparisons.isEmpty {
            let rows = result.comparisons.flatMap { agent, rows in
                rows.map { (label: "\(agent.rawValue): \($0.metric)", metric: $0.metric, estimate: Double($0.meanDifference),
                            low: Double($0.ciLow), high: Double($0.ciHigh)) }
            }
            report.blocks += Self.differenceBlocks(
                rows, title: "Each RL agent's mean difference from the sequential ranker of the same seed, with a 95% interval over users and seeds")
        }
        return report
    }
}
