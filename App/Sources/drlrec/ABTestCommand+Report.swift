import DRLEvaluation
import DRLReport
import DRLScenarios
import Foundation

/// `drlrec abtest --report`: each metric's effect as a point with its interval, the seeds' spread
/// when there are several treatments, and the tables.
extension ABTestCommand {
    func abTestReport(_ result: ABTest.Result) -> HTMLReport {
        var report = HTMLReport.ofThisCommand("drlrec abtest on \(env.rawValue): \(result.treatments.joined(separator: ", ")) against \(result.control)")
        report.blocks.append(.paragraph("\(result.users) simulated users in each arm, the same users in both (user u has seed \(seed) + u); "
                                        + "95% paired bootstrap intervals over users (\(resamples) resamples)."))
        /// A metric's change relative to the control's value, in percent (nil when the control is 0).
        func relative(_ value: Float, _ control: Float) -> Double? { control == 0 ? nil : 100 * Double(value) / Double(abs(control)) }
        for (rows, treatment) in zip(result.rows, result.treatments) {
            report.blocks.append(.heading("\(treatment) against \(result.control)"))
            let points = rows.compactMap { row -> IntervalChart.Row? in
                guard let estimate = relative(row.difference, row.control), let low = relative(row.ciLow, row.control),
                      let high = relative(row.ciHigh, row.control) else { return nil }
                return .init(label: row.metric, estimate: estimate, low: low, high: high)
            }
            report.blocks.append(.chart(IntervalChart(
                id: result.treatments.count == 1 ? "effects" : "effects-\(report.chartIds.count + 1)",
                title: "Each metric's change under the treatment, relative to the control's value, with its 95% interval (solid: the interval excludes 0)"
                    + (points.count < rows.count ? "; metrics whose control is 0 are in the table only" : ""),
                axisLabel: "change relative to the control (%)", rows: points)))
            report.blocks.append(.table(["metric", "control", "treatment", "difference", "change", "95% interval of the difference"], rows.map {
                [$0.metric, format($0.control), format($0.treatment), format($0.difference),
                 $0.relativeChange.map { String(format: "%+.1f%%", 100 * $0) } ?? "–", "[\(format($0.ciLow)), \(format($0.ciHigh))]" + ($0.isSignificant ? " *" : "")]
            }))
        }
        if let across = result.acrossSeeds {
            report.blocks.append(.heading("Across the \(result.treatments.count) training seeds"))
            report.blocks.append(.chart(IntervalChart(
                id: "effects-across-seeds",
                title: "The mean change over the seeds, with a 95% interval over users and seeds together",
                axisLabel: "change relative to the control (%)",
                rows: across.compactMap { row in
                    guard let estimate = relative(row.meanDifference, row.control), let low = relative(row.ciLow, row.control),
                          let high = relative(row.ciHigh, row.control) else { return nil }
                    return .init(label: row.metric, estimate: estimate, low: low, high: high)
                })))
            let shown = across.filter { $0.control != 0 }
            report.blocks.append(.chart(BarChart(
                id: "seed-spread", title: "Each seed's change relative to the control (a dot per seed; the bar is their mean)",
                groups: shown.map(\.metric), yLabel: "change (%)",
                series: [.init(name: "treatment − control", samples: shown.map { row in row.differences.compactMap { relative($0, row.control) } })])))
        }
        return report
    }
}
