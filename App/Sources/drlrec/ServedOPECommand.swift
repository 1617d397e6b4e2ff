import ArgumentParser
import DRLEvaluation
import DRLReport
import DRLScenarios
import DRLServing
import Foundation

/// `drlrec ope served`: a checkpoint's value on the lists a server served and the feedback on them.
struct ServedOPECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "served",
        abstract: "Estimate a checkpoint's value from a server's impression and feedback logs.",
        discussion: """
        Every served list in --impressions is recomputed as `drlrec serve` would have served it with the \
        --evaluation checkpoint and the given exploration (--explore, --explorer, --temperature), from \
        the history the server would have kept for that user then (the feedback log's earlier rows, \
        and for a model that reads them the earlier served lists). The value is the expected sum of \
        a list's rewards (--reward), estimated position by position: iips (IPW at each position), \
        snips (self-normalised), dm (a position-based reward model) and dr (doubly robust on it), \
        each with a bootstrap interval over users (each drawn with all its lists). With --production, the same for the production \
        checkpoint and the gate's verdict: the candidate passes when the lower bound of its --gate \
        estimate reaches production's estimate (what `drlrec registry promote` and `rollout` check \
        when given the logs).
        """
    )

    @OptionGroup var logs: ServedLogOptions
    @OptionGroup var exploration: ExplorationOptions

    @Option(help: ArgumentHelp("The checkpoint to evaluate (any kind `drlrec registry register` accepts).", valueName: "file"))
    var evaluation: String

    @Option(help: ArgumentHelp("The production checkpoint to compare with.", valueName: "file"))
    var production: String?

    @Option(help: ArgumentHelp("Estimators, comma-separated (default: all of \(SlateOffPolicyEstimator.allCases.map(\.rawValue).joined(separator: ", "))).", valueName: "list"))
    var estimators: String?

    @OptionGroup var rule: GateRuleOptions

    @Option(parsing: .unconditional, help: "Bootstrap resamples.")
    var resamples = 1_000

    @Option(name: .customLong("user-events"), parsing: .unconditional, help: "Events kept per user, as the server kept them (`drlrec serve --user-events`).")
    var userEvents = 200

    @Flag(help: "Print one JSON object per policy and estimator.")
    var json = false

    @Option(help: ArgumentHelp("Also write an HTML report here: every estimate with its interval beside the logged reward per list, the gate's verdict and the command.",
                               valueName: "file.html"))
    var report: String?

    func validate() throws {
        guard logs.given else { throw ValidationError("give the served logs: --impressions and --feedback") }
        _ = try chosen()
        guard resamples >= 100 else { throw ValidationError("--resamples must be at least 100, got \(resamples)") }
        guard userEvents > 0 else { throw ValidationError("--user-events must be positive") }
        if let report { try requireWritableDirectory(of: report, option: "--report") }
    }

    func chosen() throws -> [SlateOffPolicyEstimator] {
        guard let estimators else { return SlateOffPolicyEstimator.allCases }
        return try estimators.split(separator: ",").map { name in
            guard let estimator = SlateOffPolicyEstimator(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--estimators: unknown estimator '\(name)'; choose from \(SlateOffPolicyEstimator.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return estimator
        }
    }

    func run() throws {
        let (log, feedback) = try logs.load()
        guard !log.slates.isEmpty else { throw CommandFailure("'\(logs.impressions!)' holds no served lists") }
        let candidate: any ServableModel, incumbent: (any ServableModel)?
        do {
            candidate = try ServableModelKinds.drlrec.load(checkpoint: evaluation)
            incumbent = try production.map { try ServableModelKinds.drlrec.load(checkpoint: $0) }
        } catch { throw CommandFailure("\(error)") }
        let rewardModel = SlateRewardModel(slates: log.slates, key: rule.rewardModel)
        let logged = log.slates.map { $0.rewards.reduce(0, +) }.reduce(0, +) / Double(log.slates.count)
        if !json {
            print("\(log.slates.count) served lists (\(Set(log.slates.map(\.user)).count) users); their mean logged reward per list \(String(format: "%.4f", logged))")
        }
        let estimators = try chosen(), gateEstimator = rule.gate
        var rows = [["policy", "estimator", "value", "95% CI"]]
        var gateEstimates: [String: OffPolicyGate.Estimate] = [:]
        var charted: [IntervalChart.Row] = []
        for (name, path, model) in [("evaluation", evaluation, candidate)] + (incumbent.map { [("production", production!, $0)] } ?? []) {
            let data: SlateOffPolicyData
            do {
                data = try ServedLogReplay.offPolicyData(of: model, exploration: exploration.exploration, log: log, feedback: feedback,
                                                         rewardModel: rewardModel, popularityBase: (incumbent ?? candidate).itemCounts,
                                                         historyCapacity: userEvents)
            } catch { throw CommandFailure("\(path): \(error)") }
            for estimator in estimators + (estimators.contains(gateEstimator) ? [] : [gateEstimator]) {
                let (value, low, high) = estimator.estimateWithInterval(data, resamples: resamples, switchThreshold: rule.switchThreshold)
                if estimator == gateEstimator { gateEstimates[name] = OffPolicyGate.Estimate(value: value, low: low, high: high) }
                guard estimators.contains(estimator) else { continue }
                rows.append([name, estimator.rawValue, String(format: "%.4f", value), String(format: "[%.4f, %.4f]", low, high)])
                charted.append(.init(label: "\(name): \(estimator.rawValue)", estimate: value, low: low, high: high, marker: logged))
                if json {
                    print(JSONLine([("policy", .string(name)), ("checkpoint", .string(path)), ("estimator", .string(estimator.rawValue)),
                                    ("value", .double(value)), ("ci_low", .double(low)), ("ci_high", .double(high)),
                                    ("lists", .int(log.slates.count)), ("logged_value", .double(logged))]).text)
                }
            }
        }
        if !json { printColumns(rows) }
        var verdict: OffPolicyGate.Verdict?
        if let candidate = gateEstimates["evaluation"], let incumbent = gateEstimates["production"] {
            verdict = OffPolicyGate.Verdict(candidate: candidate, production: incumbent, lists: log.slates.count,
                                            estimator: gateEstimator, margin: rule.gateMargin, rewardModel: rule.rewardModel,
                                            switchThreshold: rule.switchThreshold)
        }
        if let report {
            var page = HTMLReport.ofThisCommand("drlrec ope served: \(evaluation)" + (production.map { " against \($0)" } ?? ""))
            page.blocks.append(.paragraph("\(log.slates.count) served lists of \(Set(log.slates.map(\.user)).count) users; "
                                          + String(format: "their mean logged reward per list %.4f. ", logged)
                                          + "Each list recomputed as the server would have served it with the checkpoint and the exploration given; "
                                          + "95% bootstrap intervals over users (\(resamples) resamples)."))
            page.blocks.append(.chart(IntervalChart(id: "estimates", title: "Each policy's value per list by each estimator, with its 95% interval; ◆ the logged policy's mean reward per list",
                                                    axisLabel: "reward per list", rows: charted, baseline: nil)))
            page.blocks.append(.table(rows[0], Array(rows.dropFirst())))
            if let verdict { page.blocks.append(.paragraph("The gate (\(rule.gate.rawValue)): \(verdict.passes ? "passes" : "refused"): \(verdict.summary)")) }
            do { try page.write(to: report) } catch { throw CommandFailure("--report \(report): writing failed: \(error)") }
        }
        if let verdict {
            if json {
                print(JSONLine([("gate", .string(rule.gate.rawValue)), ("passes", .bool(verdict.passes)), ("summary", .string(verdict.summary))]).text)
            } else {
                print("gate: \(verdict.passes ? "passes" : "refused"): \(verdict.summary)")
            }
        }
    }
}
