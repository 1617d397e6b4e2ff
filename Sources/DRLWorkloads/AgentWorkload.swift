import DRLAgents
import DRLTensor

/// An agent's training loop in the configuration of the Stable-Baselines3 peer
/// (Benchmarks/peers/sb3_agents.py): the agent built and warmed up once, then `run`, the part to
/// time, which trains on and returns how many units of `unit` it did.
public struct AgentWorkload {
    public let name: String
    /// What `run` counts: environment steps or gradient updates.
    public let unit: String
    public let run: () throws -> Int

    /// No evaluation inside the timed run.
    private static let never = Int.max

    /// DQN on CartPole, 64-64 MLP, batch 64, one gradient step per environment step after 1,000
    /// warm-up steps, warmed up for 2,000 steps; `run` takes `steps` environment steps.
    public static func dqnCartPole(steps: Int) throws -> AgentWorkload {
        var configuration = DQNConfiguration()
        configuration.hiddenSizes = [64, 64]
        configuration.trainFrequency = 1
        configuration.gradientSteps = 1
        configuration.targetUpdateInterval = 500
        configuration.learningRate = 1e-3
        configuration.totalSteps = steps + 2_000
        let agent = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: 0)
        let environment = CartPole(seed: 0)
        try agent.train(on: environment, steps: 2_000, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: never)
        return AgentWorkload(name: "dqn_cartpole", unit: "env_steps") {
            try agent.train(on: environment, steps: steps, seed: 1, evaluationEnvironment: CartPole(), evaluationInterval: never)
            return steps
        }
    }

    /// SAC on Pendulum, 256-256 MLPs, batch 256, one update per environment step after 1,000
    /// random warm-up steps; `run` takes `steps` environment steps and counts the updates.
    public static func sacPendulum(steps: Int) throws -> AgentWorkload {
        var configuration = SACConfiguration()
        configuration.learningStarts = 1_000
        let agent = SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: configuration, seed: 0)
        try agent.train(on: Pendulum(seed: 0), steps: 1_000, seed: 0, randomSteps: 1_000, evaluationEnvironment: Pendulum(),
                        evaluationInterval: never)
        return AgentWorkload(name: "sac_pendulum", unit: "updates") {
            let updatesBefore = agent.gradientSteps
            try agent.train(on: Pendulum(seed: 1), steps: steps, seed: 1, randomSteps: 0, evaluationEnvironment: Pendulum(),
                            evaluationInterval: never)
            return agent.gradientSteps - updatesBefore
        }
    }

    /// A2C on 8 CartPole copies, 64-64 tanh networks, rollouts of 5 steps (one update per 40
    /// environment steps), warmed up for 4,000 steps; `run` takes `steps` environment steps.
    public static func a2cCartPole(steps: Int) throws -> AgentWorkload {
        let copies = 8
        let agent = A2CAgent(observationDimension: 4, choices: [2], environments: copies, seed: 0)
        let vector = VectorEnvironment((0..<copies).map { _ in CartPole() })
        try agent.train(on: vector, steps: 4_000, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: never)
        return AgentWorkload(name: "a2c_cartpole", unit: "env_steps") {
            let stepsBefore = agent.environmentSteps
            try agent.train(on: vector, steps: steps, seed: 1, evaluationEnvironment: CartPole(), evaluationInterval: never)
            return agent.environmentSteps - stepsBefore
        }
    }

    /// A2C's off-policy V-trace training (`trainOffPolicy`, the closed loop's tutor learner) on
    /// 20,000 logged steps of an education-sized tutor (41 observations, heads of 5 and 3),
    /// episodes of 100, random actions and behaviour probabilities, minibatches of 256; warmed up
    /// by one call; `run` takes `steps` gradient steps (their first quarter a critic warm-up), so
    /// that every minibatch size (full and the pass's last) has been met before.
    public static func vTraceOffPolicy(steps: Int) throws -> AgentWorkload {
        let rows = 20_000, dimension = 41, choices = [5, 3]
        let agent = A2CAgent(observationDimension: dimension, choices: choices, environments: 1, seed: 0)
        var rng = RandomGenerator(seed: 11, stream: 0x7E)
        let observations = Tensor(shape: Shape(rows, dimension), scalars: (0..<rows * dimension).map { _ in rng.uniform() })
        let actions = choices.map { options in (0..<rows).map { _ in Int32(rng.next() % UInt64(options)) } }
        let episodes = LoggedEpisodes(observations: observations, actions: actions, rewards: (0..<rows).map { _ in rng.uniform() < 0.3 ? 5 : 0 },
                                      behaviourProbabilities: (0..<rows).map { _ in 0.02 + 0.3 * rng.uniform() },
                                      episodeEnds: (0..<rows).map { $0 % 100 == 99 })
        var settings = A2CAgent.VTraceSettings()
        settings.gradientSteps = 200
        _ = try agent.trainOffPolicy(on: episodes, settings: settings, seed: 0)
        settings.criticWarmUpSteps = steps / 4
        settings.gradientSteps = steps - steps / 4
        return AgentWorkload(name: "vtrace_offpolicy", unit: "updates") {
            _ = try agent.trainOffPolicy(on: episodes, settings: settings, seed: 1)
            return steps
        }
    }
}
