import DRLData
import DRLEvaluation
import DRLReport
import DRLTensor
import ArgumentParser
import Foundation

struct OpenBanditOPECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "obd",
        abstract: "Off-policy evaluation on the Open Bandit Dataset, against the truth the other logged policy measured.",
        discussion: """
        The Open Bandit Dataset logged each campaign under two policies, uniform random and Bernoulli \
        Thompson sampling (bts). The value of the --evaluation policy is estimated from the logs of the \
        --behavior policy by every estimator, with a bootstrap interval, and compared with the truth: \
        the click rate the evaluation policy measured on its own logs. The evaluation policy is its \
        logged action distribution per position (context-free). The direct method's reward model is \
        L2-regularised logistic regression on the item, the position, the user features and the \
        user-item affinity, fitted on the behaviour logs by Newton's method with the penalty chosen by \
        cross-validated log-loss. With --evaluation learned, DRLRec's own \
        policy (that reward model's ε-greedy choice, or with --policy softmax a softmax over its \
        log-odds) is fitted on the first half of the behaviour logs \
        and evaluated on the second, beside the click rates the logged policies reached; --out keeps \
        it in a file. --evaluation FILE.safetensors evaluates such a saved policy: on the second \
        half of the logs it was fitted on, or on all the rounds of other logs (another behaviour policy \
        or campaign). --evaluation FILE.csv evaluates a table of action probabilities per position, \
        context-free or, with user_feature_0…3 columns, per user context (a row with '*' in every \
        feature column is the default for contexts the table does not list). Fetch the data first: \
        `drlrec data fetch obd`.
        """
    )

    @Option(help: "Dataset: obd.")
    var dataset: String = "obd"

    @Option(help: "Campaign: all, men, women.")
    var campaign: String = "all"

    @Option(help: "The logging policy whose logs the estimates read: random or bts.")
    var behavior: String = "random"

    @Option(help: ArgumentHelp("The policy to evaluate: the other logged policy (random or bts; the truth is known), learned (DRLRec's own, fitted on half the logs), a policy saved by --out (.safetensors), or a CSV file of position,item,probability rows (a table per position; with user_feature_0…3 columns, per context).", valueName: "policy|file"))
    var evaluation: String = "bts"

    @Option(name: [.customLong("out"), .customLong("save-policy")],
            help: ArgumentHelp("With --evaluation learned: save the fitted policy to this file.", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("With --evaluation learned: how the reward model's estimates become the policy: greedy (ε-greedy) or softmax (over the log-odds).", valueName: "rule"))
    var policy: String = "greedy"

    @Option(parsing: .unconditional, help: "With --policy greedy: the share ε spread uniformly over all items.")
    var exploration: Float = 0.1

    @Option(parsing: .unconditional, help: "With --policy softmax: the temperature τ of the softmax over the log-odds.")
    var temperature: Float = 1

    @Option(help: ArgumentHelp("Estimators, comma-separated (default: all of \(OffPolicyEstimator.allCases.map(\.rawValue).joined(separator: ", "))).", valueName: "list"))
    var estimators: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Switch-DR's threshold τ on the importance weight (default: chosen for the data by Lepski's method, as SLOPE).", valueName: "τ"))
    var switchThreshold: Double?

    @Option(parsing: .unconditional, help: ArgumentHelp("DRos's shrinkage λ (default: chosen for the data by Lepski's method, as SLOPE).", valueName: "λ"))
    var shrinkage: Double?

    @Option(parsing: .unconditional, help: "Bootstrap resamples.")
    var resamples: Int = 1_000

    @Option(parsing: .unconditional, help: "Instead, this many resamples that each refit the reward model, so that the intervals of DM, DR, SNDR and switch-DR include the model's own uncertainty (0: hold the model fixed). Not for --evaluation learned or a saved policy, whose policy is the model.")
    var refitResamples: Int = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Cross-fit the reward model over K folds: each round's estimates come from a model fitted on the other folds, so that no round's estimate has seen its own click (0: one model fitted on every round). Not with --refit-resamples, nor for --evaluation learned or a saved policy.", valueName: "K"))
    var crossFit: Int = 0

    @Option(help: ArgumentHelp("The cache `drlrec data fetch` filled (default: $XDG_CACHE_HOME/drlrec or ~/.cache/drlrec).", valueName: "dir"))
    var cache: String?

    @Flag(help: "Print one JSON object per estimator.")
    var json = false

    @Option(help: ArgumentHelp("Also write an HTML report here: every estimate with its interval beside the truth (or the logged policies' click rates), the settings and the command.",
                               valueName: "file.html"))
    var report: String?

    var chosen: [OffPolicyEstimator] {
        estimators.map { $0.split(separator: ",").compactMap { OffPolicyEstimator(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }
            ?? OffPolicyEstimator.allCases
    }

    func validate() throws {
        guard dataset == "obd" else { throw ValidationError("--dataset \(dataset): only obd has logged bandit feedback so far") }
        guard ["all", "men", "women"].contains(campaign) else { throw ValidationError("--campaign must be all, men or women, got \(campaign)") }
        guard ["random", "bts"].contains(behavior) else { throw ValidationError("--behavior must be random or bts, got \(behavior)") }
        guard ["random", "bts", "learned"].contains(evaluation) || FileManager.default.fileExists(atPath: evaluation) else {
            throw CommandFailure("--evaluation must be random, bts, learned, a saved policy or a table file of position,item,probability rows; no such file: \(evaluation)")
        }
        if out != nil && evaluation != "learned" { throw ValidationError("--out saves the policy of --evaluation learned") }
        if policy != "greedy" && evaluation != "learned" { throw ValidationError("--policy chooses the rule of --evaluation learned (a saved policy keeps its own)") }
        guard ["greedy", "softmax"].contains(policy) else { throw ValidationError("--policy must be greedy or softmax, got \(policy)") }
        guard (0...1).contains(exploration) else { throw ValidationError("--exploration must be in [0, 1], got \(exploration)") }
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--temperature must be positive, got \(temperature)") }
        guard behavior != evaluation else { throw ValidationError("--behavior and --evaluation name the same policy; the truth comes from the other one's logs") }
        if let estimators {
            for name in estimators.split(separator: ",") where OffPolicyEstimator(rawValue: name.trimmingCharacters(in: .whitespaces)) == nil {
                throw ValidationError("--estimators: unknown estimator '\(name)'; choose from \(OffPolicyEstimator.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        for (name, value) in [("--switch-threshold", switchThreshold), ("--shrinkage", shrinkage)] {
            if let value, !(value >= 0) { throw ValidationError("\(name) must be non-negative, got \(value)") }
        }
        guard resamples >= 100 else { throw ValidationError("--resamples must be at least 100, got \(resamples)") }
        guard refitResamples == 0 || refitResamples >= 20 else { throw ValidationError("--refit-resamples must be 0 or at least 20, got \(refitResamples)") }
        guard crossFit == 0 || crossFit >= 2 else { throw ValidationError("--cross-fit must be 0 or at least 2 folds, got \(crossFit)") }
        if crossFit > 0 && (refitResamples > 0 || evaluation == "learned" || evaluation.hasSuffix(".safetensors")) {
            throw ValidationError("--cross-fit is for a logged policy or a table as --evaluation, without --refit-resamples; a learned or saved policy's reward model is fitted on other rounds already")
        }
        if refitResamples > 0 && (evaluation == "learned" || evaluation.hasSuffix(".safetensors")) {
            throw ValidationError("--refit-resamples refits the reward model of a fixed policy; with --evaluation \(evaluation) the model is the policy")
        }
        if let report { try requireWritableDirectory(of: report, option: "--report") }
    }

    static let fittedKey = "drlrec.obd.fitted_on"

    /// Estimates the policy `rule` makes of `model` on `log`, with the model's estimates as the
    /// direct method's and the doubly robust estimators' q̂.
    private func reportLearned(_ model: OpenBanditRewardModel, rule: OpenBanditPolicyRule, on log: OpenBanditLog, title: String,
                               references: [(String, Double, String)]) throws {
        let estimates = model.estimates(for: log)
        let data = OffPolicyData(actions: log.items, rewards: log.clicks, propensities: log.propensities,
                                 evaluationProbabilities: rule.probabilities(estimates: estimates), rewardEstimates: estimates)
        try report(data, truth: nil, title: title, references: references)
    }

    func run() throws {
        let directory = (cache ?? PublicDataset.defaultCache) + "/obd"
        let others = ["random", "bts"].filter { $0 != behavior }
        let logged: OpenBanditLog, other: OpenBanditLog
        do {
            logged = try OpenBanditLog.load(directory: directory, policy: behavior, campaign: campaign)
            other = try OpenBanditLog.load(directory: directory, policy: others[0], campaign: campaign)
        } catch { throw CommandFailure("\(error)") }
        if evaluation == "learned" {
            // DRLRec's own policy: fitted on the first half of the behaviour logs, estimated on the second.
            let half = logged.rounds / 2
            let training = logged.subset(Array(0..<half)), held = logged.subset(Array(half..<logged.rounds))
            say("fitting the reward model on the first \(half) rounds of \(behavior)...")
            let model = try OpenBanditRewardModel(fitting: training)
            let rule: OpenBanditPolicyRule = policy == "softmax" ? .softmax(temperature: temperature) : .greedy(exploration: exploration)
            if let out {
                try model.save(to: out, metadata: rule.metadata.merging([Self.fittedKey: "\(behavior)/\(campaign)/first-half"]) { $1 })
                say("saved the policy to \(out)")
            }
            return try reportLearned(model, rule: rule, on: held, title: "DRLRec's policy, \(rule) of the reward model, fitted on \(half) rounds of \(behavior), estimated on the other \(held.rounds)",
                                 references: [(behavior, held.clickRate, "its own click rate on the same \(held.rounds) rounds"),
                                              (others[0], other.clickRate, "its own click rate, \(other.rounds) rounds")])
        }
        if evaluation.hasSuffix(".safetensors") {
            // A saved policy: on the half of the logs it was not fitted on, or on all of other logs.
            let model: OpenBanditRewardModel, metadata: [String: String]
            do { (model, metadata) = try OpenBanditRewardModel.load(from: evaluation) } catch { throw CommandFailure("\(error)") }
            let rule: OpenBanditPolicyRule
            switch OpenBanditPolicyRule.from(metadata: metadata) {
            case .success(let saved): rule = saved
            case .failure(let error): throw CommandFailure("'\(evaluation)': \(error)")
            }
            guard model.itemCount == logged.itemCount else {
                throw CommandFailure("'\(evaluation)' was fitted on \(model.itemCount) items; the \(behavior) logs of \(campaign) have \(logged.itemCount)")
            }
            let fitted = metadata[Self.fittedKey] ?? "unknown logs"
            let sameLogs = fitted == "\(behavior)/\(campaign)/first-half"
            let held = sameLogs ? logged.subset(Array((logged.rounds / 2)..<logged.rounds)) : logged
            return try reportLearned(model, rule: rule, on: held,
                                 title: "the policy in \(evaluation) (\(rule), fitted on \(fitted)), estimated on \(sameLogs ? "the other half: " : "")\(held.rounds) rounds of \(behavior)",
                                 references: [(behavior, held.clickRate, "its own click rate on the same \(held.rounds) rounds"),
                                              (others[0], other.clickRate, "its own click rate, \(other.rounds) rounds")])
        }
        // A logged policy (ground truth) or a table from a file, applied at each round's position.
        let table: OpenBanditPolicyTable, probabilities: Tensor
        do {
            table = evaluation == others[0] ? OpenBanditPolicyTable(positionDistribution: other.positionActionDistribution(), source: others[0])
                : try OpenBanditPolicyTable(contentsOf: evaluation, items: logged.itemCount)
            probabilities = try table.probabilities(for: logged)
        } catch { throw CommandFailure("\(error)") }
        let keyed = table.contextFeatures.isEmpty ? "" : " (per context of \(table.distributions.count) values of \(table.contextFeatures.map { "user_feature_\($0)" }.joined(separator: ", "))\(table.fallback == nil ? "" : " and a default"))"
        say("\(logged.rounds) rounds of \(behavior) on \(campaign), \(logged.itemCount) items; fitting the reward model...")
        let model = try OpenBanditRewardModel(fitting: logged)
        say("reward model: penalty \(model.l2) by \(OpenBanditRewardModel.folds)-fold cross-validated log-loss\(crossFit > 0 ? ", estimates cross-fitted over \(crossFit) folds" : "")")
        let estimates = crossFit > 0 ? try OpenBanditRewardModel.crossFittedEstimates(for: logged, folds: crossFit, l2: model.l2) : model.estimates(for: logged)
        let data = OffPolicyData(actions: logged.items, rewards: logged.clicks, propensities: logged.propensities,
                                 evaluationProbabilities: probabilities, rewardEstimates: estimates)
        // A resample refits with the penalty chosen on all the rounds.
        let refit = { (rows: [Int]) throws -> Tensor in try OpenBanditRewardModel(fitting: logged.subset(rows), l2: model.l2).estimates(for: logged) }
        if evaluation == others[0] {
            try report(data, truth: other.clickRate,
                       title: "value of \(evaluation) from \(logged.rounds) rounds of \(behavior); truth (\(evaluation)'s own click rate, \(other.rounds) rounds) \(String(format: "%.5f", other.clickRate))",
                       references: [], refit: refit)
        } else {
            try report(data, truth: nil, title: "value of the policy in \(evaluation)\(keyed) from \(logged.rounds) rounds of \(behavior)",
                       references: [(behavior, logged.clickRate, "its own click rate on the same rounds"),
                                    (others[0], other.clickRate, "its own click rate, \(other.rounds) rounds")], refit: refit)
        }
    }

    /// Prints every chosen estimator's value and interval, with the relative error against the
    /// truth when there is one, and against the first reference policy's click rate otherwise.
    /// With `--refit-resamples`, `refit` refits the reward model on a resample's rounds.
    private func report(_ data: OffPolicyData, truth: Double?, title: String, references: [(policy: String, rate: Double, what: String)],
                        refit: (([Int]) throws -> Tensor)? = nil) throws {
        let refitting = refitResamples > 0 && refit != nil
        // The thresholds are chosen once, on all the rounds, and held in every resample.
        let tuned = switchThreshold == nil || shrinkage == nil ? OffPolicyEstimator.tuned(data) : nil
        let h = OffPolicyEstimator.Hyperparameters(switchThreshold: switchThreshold ?? tuned!.switchThreshold, shrinkage: shrinkage ?? tuned!.shrinkage)
        if !json {
            print("OBD \(campaign): \(title)")
            for reference in references { print(String(format: "  %@: %.5f (%@)", reference.policy, reference.rate, reference.what)) }
            if refitting { print("  intervals: \(refitResamples) resamples, the reward model refitted in each") }
            print(String(format: "  switch-DR τ %.4g%@, DRos λ %.4g%@", h.switchThreshold, switchThreshold == nil ? " (Lepski)" : "",
                         h.shrinkage, shrinkage == nil ? " (Lepski)" : ""))
        }
        let results = refitting
            ? try OffPolicyEstimator.refittedIntervals(chosen, data: data, resamples: refitResamples, hyperparameters: h, refit: refit!)
            : chosen.map { $0.estimateWithInterval(data, resamples: resamples, hyperparameters: h) }
        var lines = [["estimator", "value", "95% CI", truth == nil ? "vs \(references[0].policy)" : "relative error"]]
        for (estimator, result) in zip(chosen, results) {
            if json {
                var fields: [(String, JSONLine.Value)] = [("estimator", .string(estimator.rawValue)), ("value", .float(Float(result.value))),
                                                          ("ci_low", .float(Float(result.low))), ("ci_high", .float(Float(result.high)))]
                if let truth { fields += [("truth", .float(Float(truth))), ("relative_error", .float(Float(abs(result.value - truth) / truth)))] }
                fields += references.map { ("\($0.policy)_click_rate", .float(Float($0.rate))) }
                fields += [("behavior", .string(behavior)), ("evaluation", .string(evaluation)), ("campaign", .string(campaign)),
                           ("resamples", .int(refitting ? refitResamples : resamples)), ("model_refitted", .bool(refitting)),
                           ("switch_threshold", .double(h.switchThreshold)), ("shrinkage", .double(h.shrinkage))]
                print(JSONLine(fields).text)
            } else {
                let comparison = truth.map { String(format: "%.3f", abs(result.value - $0) / $0) }
                    ?? String(format: "%+.1f%%", 100 * (result.value / references[0].rate - 1))
                lines.append([estimator.rawValue, String(format: "%.5f", result.value), String(format: "[%.5f, %.5f]", result.low, result.high), comparison])
            }
        }
        if let report {
            var page = HTMLReport.ofThisCommand("drlrec ope obd on \(campaign): \(evaluation) from the logs of \(behavior)")
            page.blocks.append(.paragraph("OBD \(campaign): \(title). "
                                          + references.map { String(format: "%@: %.5f (%@). ", $0.policy, $0.rate, $0.what) }.joined()
                                          + String(format: "Switch-DR τ %.4g, DRos λ %.4g; 95%% intervals from %d resamples", h.switchThreshold, h.shrinkage,
                                                   refitting ? refitResamples : resamples)
                                          + (refitting ? ", the reward model refitted in each." : ".")))
            let marker = truth ?? references.first?.rate
            let markerName = truth != nil ? "the truth, \(evaluation)'s own click rate" : references.first.map { "\($0.policy)'s click rate" } ?? ""
            page.blocks.append(.chart(IntervalChart(
                id: "estimates", title: "Each estimator's value of the policy with its 95% interval" + (marker == nil ? "" : "; ◆ \(markerName)"),
                axisLabel: "click rate",
                rows: zip(chosen, results).map { .init(label: $0.rawValue, estimate: $1.value, low: $1.low, high: $1.high, marker: marker) },
                baseline: nil)))
            page.blocks.append(.table(["estimator", "value", "95% CI"] + (truth == nil ? [] : ["relative error"]), zip(chosen, results).map { estimator, result in
                [estimator.rawValue, String(format: "%.5f", result.value), String(format: "[%.5f, %.5f]", result.low, result.high)]
                    + (truth.map { [String(format: "%.3f", abs(result.value - $0) / $0)] } ?? [])
            }))
            do { try page.write(to: report) } catch { throw CommandFailure("--report \(report): writing failed: \(error)") }
        }
        if json { return }
        printColumns(lines)
    }
}
