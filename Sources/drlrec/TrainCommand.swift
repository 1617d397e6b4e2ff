import ArgumentParser
import DRLAgents
import DRLTensor

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an agent on a validation environment and print its greedy evaluation returns."
    )

    enum EnvironmentName: String, ExpressibleByArgument, CaseIterable { case cartpole }
    enum AgentName: String, ExpressibleByArgument, CaseIterable { case dqn }

    @Option(help: "Environment: \(EnvironmentName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var env: EnvironmentName = .cartpole

    @Option(help: "Agent: \(AgentName.allCases.map(\.rawValue).joined(separator: ", ")).")
    var agent: AgentName = .dqn

    @Option(help: "Environment steps.")
    var steps: Int = 50_000

    @Option(help: "Random seed (the run is reproducible for a seed).")
    var seed: UInt64 = 0

    @Option(help: "Evaluate the greedy policy every this many environment steps.")
    var evaluationInterval: Int = 5_000

    @Option(help: "Episodes per evaluation.")
    var evaluationEpisodes: Int = 10

    @Flag(help: "Print one JSON object per evaluation instead of a table.")
    var json = false

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard evaluationInterval > 0, evaluationEpisodes > 0 else {
            throw ValidationError("--evaluation-interval and --evaluation-episodes must be positive")
        }
    }

    func run() throws {
        var configuration = DQNConfiguration()
        configuration.totalSteps = steps
        let dqn = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: seed)
        let start = Sampler.now()
        do {
            let records = try dqn.train(on: CartPole(seed: seed), steps: steps, seed: seed, evaluationEnvironment: CartPole(),
                                        evaluationInterval: evaluationInterval, evaluationEpisodes: evaluationEpisodes) { record in
                let rate = Double(record.step) / (Sampler.now() - start)
                if json {
                    print(JSONLine([("env", .string(env.rawValue)), ("agent", .string(agent.rawValue)), ("seed", .int(Int(seed))),
                                    ("step", .int(record.step)), ("evaluation_return", .double(Double(record.meanReturn))),
                                    ("steps_per_s", .double(rate.rounded()))]).text)
                } else {
                    print("step \(record.step)  greedy return \(record.meanReturn)  \(Int(rate)) steps/s")
                }
            }
            if !json, let last = records.last { print("final evaluation return: \(last.meanReturn)") }
        } catch {
            throw ValidationError("training stopped at environment step \(dqn.environmentSteps), gradient step \(dqn.gradientSteps): \(error)")
        }
    }
}
