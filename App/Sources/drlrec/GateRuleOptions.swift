import ArgumentParser
import DRLEvaluation

extension SlateOffPolicyEstimator: @retroactive ExpressibleByArgument {}
extension SlateRewardModel.Key: @retroactive ExpressibleByArgument {}

/// The off-policy gate's rule: the estimator it reads and how far below production's estimate a
/// candidate's lower bound may fall (see `OffPolicyGate`).
struct GateRuleOptions: ParsableArguments {
    @Option(help: "The estimator the gate reads.")
    var gate: SlateOffPolicyEstimator = .doublyRobust

    @Option(name: .customLong("gate-margin"), parsing: .unconditional, help: "The share of production's estimate the candidate's lower bound may fall short by (0: it must reach production's estimate).")
    var gateMargin = 0.0

    @Option(name: .customLong("reward-model"),
            help: "What the reward model of dm, dr and switch-dr keys an item's attraction by: item (whoever it is shown to), or policy-rank (the evaluated policy's rank of the item for the list's user, for the items of its list: what the items it ranks alike earned when shown).")
    var rewardModel: SlateRewardModel.Key = .item

    @Option(name: .customLong("switch-threshold"), parsing: .unconditional,
            help: "Switch-DR's τ: a position whose importance weight is larger is left to the reward model (∞: DR; 0: the direct method).")
    var switchThreshold = SlateOffPolicyEstimator.defaultSwitchThreshold

    func validate() throws {
        guard gateMargin >= 0, gateMargin.isFinite else { throw ValidationError("--gate-margin must be non-negative, got \(gateMargin)") }
        guard switchThreshold >= 0, !switchThreshold.isNaN else { throw ValidationError("--switch-threshold must be non-negative, got \(switchThreshold)") }
    }
}
