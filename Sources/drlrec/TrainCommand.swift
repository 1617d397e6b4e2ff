import ArgumentParser
import DRLAgents
import DRLTensor

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an agent on a validation environment and print its final evaluation return."
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

    @Option(help: "Evaluation episodes of the greedy policy at the end.")
    var evaluationEpisodes: Int = 10

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard evaluationEpisodes > 0 else { throw ValidationError("--evaluation-episodes must be positive") }
    }

    func run() throws {
        let environment = CartPole(seed: seed)
        var configuration = DQNConfiguration()
        configuration.totalSteps = steps
        let dqn = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: seed)
        var observation = Tensor(workspace: Shape(1, 4)), next = Tensor(workspace: Shape(1, 4))
        var chosen: [Int32] = [0]
        environment.reset(seed: seed, observation: &observation)
        var episodeReturn: Float = 0, recent: [Float] = []
        let start = Sampler.now()
        for step in 0..<steps {
            dqn.act(observation, epsilon: configuration.epsilon(at: step), into: &chosen)
            let result = environment.step(.discrete(Int(chosen[0])), observation: &next)
            do {
                _ = try dqn.observe(environment: 0, observation: observation, action: Int(chosen[0]), reward: result.reward,
                                    nextObservation: next, terminated: result.terminated, truncated: result.truncated)
            } catch {
                throw ValidationError("training stopped at environment step \(step): \(error)")
            }
            episodeReturn += result.reward
            if result.terminated || result.truncated {
                recent.append(episodeReturn)
                if recent.count > 20 { recent.removeFirst() }
                episodeReturn = 0
                environment.reset(seed: nil, observation: &observation)
            } else {
                observation.copy(from: next)
            }
            if !json && (step + 1) % 10_000 == 0 {
                let mean = recent.isEmpty ? 0 : recent.reduce(0, +) / Float(recent.count)
                print("step \(step + 1)  \(Int(Double(step + 1) / (Sampler.now() - start))) steps/s  recent return \(mean)")
            }
        }
        var greedy: [Int32] = [0]
        let evaluation = evaluate(CartPole(seed: seed &+ 1000), episodes: evaluationEpisodes, seed: seed &+ 1000) { o in
            dqn.act(o.reshaped(Shape(1, 4)), epsilon: 0, into: &greedy)
            return .discrete(Int(greedy[0]))
        }
        if json {
            print(JSONLine([("env", .string(env.rawValue)), ("agent", .string(agent.rawValue)), ("steps", .int(steps)),
                            ("seed", .int(Int(seed))), ("evaluation_return", .double(Double(evaluation)))]).text)
        } else {
            print("final evaluation return (mean of \(evaluationEpisodes) greedy episodes): \(evaluation)")
        }
    }
}
