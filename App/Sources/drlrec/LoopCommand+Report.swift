import DRLReport
import DRLScenarios
import Foundation

/// `drlrec loop --report`: each arm's return per user day by day, each released candidate's
/// off-policy estimate beside the value it realised, the learning system against the frozen
/// first version, and the day's events.
extension LoopCommand {
    func loopReport(_ reports: [ClosedLoop.DayReport], check: ClosedLoop.EstimateCheck, difference: ClosedLoop.Comparison?) -> HTMLReport {
        var page = HTMLReport.ofThisCommand("drlrec loop on \(env.rawValue): \(days) days of \(users) users")
        page.blocks.append(.paragraph("Each day's users are served through the recommendation service with exploration and an impression log; "
                                      + "the frozen first version serves \(Int((controlShare * 100).rounded()))% of them throughout"
                                      + (twinControl ? " (twins: the same simulated users, whom the learning system serves too)" : "") + ", a released candidate "
                                      + "\(Int((candidateShare * 100).rounded()))% of the others. Each night a candidate"
                                      + (learn ? " (learnt from the served logs when none is given)" : "")
                                      + " is judged off-policy (\(rule.gate.rawValue)) before release, and promoted or rolled back the night after."))
        let arms = ["frozen", "production", "candidate"]
        page.blocks.append(.chart(LineChart(
            id: "return-per-user", title: "Each arm's mean return per user, day by day (95% intervals in the table below)", xLabel: "day",
            yLabel: "return per user",
            series: arms.compactMap { arm in
                let points = reports.compactMap { day in day.arms.first { $0.arm == arm }.map { (x: Double(day.day), y: $0.meanReturn) } }
                return points.isEmpty ? nil : LineChart.Series(name: arm, points: points)
            })))
        let estimates = reports.compactMap { day -> IntervalChart.Row? in
            guard let estimate = day.estimate else { return nil }
            return .init(label: "day \(day.day): \(day.candidate ?? "?")", estimate: estimate.value, low: estimate.low, high: estimate.high,
                         marker: day.realised?.value)
        }
        if !estimates.isEmpty {
            page.blocks.append(.chart(IntervalChart(
                id: "estimates",
                title: "Each released candidate's off-policy estimate (\(rule.gate.rawValue)) of its reward per list with its 95% interval, and ◆ the reward per list "
                    + "it realised the day it served: the interval covered it for \(check.covered) of \(check.judged)",
                axisLabel: "reward per list", rows: estimates, baseline: nil)))
        }
        if let difference {
            page.blocks.append(.chart(IntervalChart(
                id: "learning-against-frozen",
                title: difference.paired
                    ? "Days \(days / 2 + 1)–\(days): the same \(difference.learningUsers) simulated users' return per user from production and candidates less "
                        + "that from the frozen first version, with its paired 95% interval"
                    : "Days \(days / 2 + 1)–\(days): the return per user of production and candidates (\(difference.learningUsers) users) less the frozen "
                        + "first version's (\(difference.frozenUsers) users), with its 95% interval",
                axisLabel: "difference in return per user",
                rows: [.init(label: "learning − frozen", estimate: difference.difference, low: difference.low, high: difference.high)])))
        }
        page.blocks.append(.table(["day", "arm", "version", "users", "return/user", "95% CI", "reward/list", "estimate [CI]", "realised"],
                                  reports.flatMap { day in day.arms.map { arm in
            let candidate = arm.arm == "candidate"
            return [String(day.day), arm.arm, arm.version, String(arm.users), String(format: "%.3f", arm.meanReturn),
                    String(format: "[%.3f, %.3f]", arm.low, arm.high), String(format: "%.4f", arm.listValue),
                    candidate ? day.estimate.map { String(format: "%.4f [%.4f, %.4f]", $0.value, $0.low, $0.high) } ?? "" : "",
                    candidate ? day.realised.map { String(format: "%.4f [%.4f, %.4f]", $0.value, $0.low, $0.high) } ?? "" : ""]
        } }))
        let events = reports.flatMap { day in day.events.map { [String(day.day), $0] } }
        if !events.isEmpty {
            page.blocks.append(.heading("Releases, refusals, promotions and rollbacks"))
            page.blocks.append(.table(["day", "event"], events))
        }
        return page
    }
}
