import ArgumentParser
import DRLServing

/// How served lists explore: `drlrec serve` serves with it, and an off-policy estimate of a model
/// on served logs replays the model with it (the lists it would be served with).
struct ExplorationOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Probability that a position of a served list is explored, in [0, 1).", valueName: "epsilon"))
    var explore: Float = 0

    @Option(help: "Where an explored position's item comes from: uniform, popularity, or softmax (of the model's scores at --temperature).")
    var explorer: ExplorerName = .uniform

    @Option(parsing: .unconditional, help: "Temperature of the softmax explorer.")
    var temperature: Float = 1

    @Option(parsing: .unconditional, help: ArgumentHelp("Probability that a list's top items are shown in a random order, in [0, 1]: gives a policy that ranks them in another order support in the logs, for off-policy evaluation.", valueName: "rho"))
    var shuffle: Float = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Standard deviation of the Gaussian noise on a list-wise ranker's ranking weights (in [-1, 1] each), drawn from each list's impression id: gives a learner from the logs other actions than the serving version's (0: none; other models ignore it).", valueName: "sigma"))
    var actionNoise: Float = 0

    enum ExplorerName: String, ExpressibleByArgument, CaseIterable { case uniform, popularity, softmax }

    func validate() throws {
        guard explore >= 0, explore < 1 else { throw ValidationError("--explore \(explore) must be in [0, 1)") }
        guard temperature > 0, temperature.isFinite else { throw ValidationError("--temperature \(temperature) must be positive") }
        guard shuffle >= 0, shuffle <= 1 else { throw ValidationError("--shuffle \(shuffle) must be in [0, 1]") }
        guard actionNoise >= 0, actionNoise.isFinite else { throw ValidationError("--action-noise \(actionNoise) must be non-negative and finite") }
    }

    var exploration: SlateExploration {
        let explorers: [ExplorerName: SlateExploration.Explorer] = [.uniform: .uniform, .popularity: .popularity, .softmax: .softmax(temperature: temperature)]
        return SlateExploration(epsilon: explore, explorer: explorers[explorer]!, shuffle: shuffle, actionNoise: actionNoise)
    }
}
