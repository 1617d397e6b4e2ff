import ArgumentParser
import DRLEvaluation
import DRLScenarios
import DRLServing

/// The off-policy gate of `registry promote` and `registry rollout`: given the served logs, the
/// version must not be estimated worse than production beyond doubt (see `OffPolicyGate`).
struct OffPolicyGateOptions: ParsableArguments {
    @OptionGroup var logs: ServedLogOptions
    @OptionGroup var exploration: ExplorationOptions

    @OptionGroup var rule: GateRuleOptions

    @Option(name: .customLong("user-events"), parsing: .unconditional, help: "Events kept per user, as the server kept them (`drlrec serve --user-events`).")
    var userEvents = 200

    func validate() throws {
        guard userEvents > 0 else { throw ValidationError("--user-events must be positive") }
    }

    /// Without served logs, nil (no gate). Otherwise the verdict's summary when `version` passes;
    /// when it does not, the refusal is recorded in the registry's audit trail and thrown.
    func check(_ version: String, action: String, in registry: ModelRegistry) throws -> String? {
        guard logs.given else { return nil }
        guard let production = try registry.state().production else { throw CommandFailure("the gate compares with production, and there is none") }
        let (log, feedback) = try logs.load()
        let verdict: OffPolicyGate.Verdict
        do {
            let candidate = try ServableModelKinds.drlrec.load(checkpoint: try registry.checkpointPath(of: version))
            let incumbent = try ServableModelKinds.drlrec.load(checkpoint: try registry.checkpointPath(of: production))
            let gate = OffPolicyGate(estimator: rule.gate, exploration: exploration.exploration,
                                     historyCapacity: userEvents, margin: rule.gateMargin, rewardModel: rule.rewardModel,
                                     switchThreshold: rule.switchThreshold)
            verdict = try gate.verdict(candidate: candidate, production: incumbent, log: log, feedback: feedback)
        } catch { throw CommandFailure("the off-policy gate cannot judge \(version): \(error)") }
        guard verdict.passes else {
            try registry.recordRefusal(of: version, action: action, reason: verdict.summary)
            throw CommandFailure("\(action) of \(version) refused: \(verdict.summary)")
        }
        return verdict.summary
    }
}
