import CAllocationCounter
import DRLAgents
import DRLTensor

/// The agent workloads of `drlrec bench agents`, in the configuration of the Stable-Baselines3
/// peer (Benchmarks/peers/sb3_agents.py).
enum AgentBenchmarks {
    /// DQN on CartPole, 64-64 MLP, batch 64, one gradient step per environment step after 1,000
    /// warm-up steps: environment steps per second including learning, over `steps` steps after a
    /// 2,000-step warm-up; and heap allocations per step.
    static func dqnCartPole(steps: Int) throws -> BenchResult {
        var configuration = DQNConfiguration()
        configuration.hiddenSizes = [64, 64]
        configuration.trainFrequency = 1
        configuration.gradientSteps = 1
        configuration.targetUpdateInterval = 500
        configuration.learningRate = 1e-3
        configuration.totalSteps = steps + 2_000
        let agent = DQNAgent(observationDimension: 4, actions: 2, configuration: configuration, seed: 0)
        let environment = CartPole(seed: 0)
        let never = Int.max  // no evaluation inside the timed run
        try agent.train(on: environment, steps: 2_000, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: never)
        let before = drl_allocation_count()
        let start = Sampler.now()
        try agent.train(on: environment, steps: steps, seed: 1, evaluationEnvironment: CartPole(), evaluationInterval: never)
        let seconds = Sampler.now() - start
        let allocations = drl_allocation_count() - before
        return BenchResult(name: "dqn_cartpole", value: Double(steps) / seconds, unit: "env_steps/s",
                           allocationsPerStep: before == UInt.max ? nil : Double(allocations) / Double(steps))
    }

    /// SAC on Pendulum, 256-256 MLPs, batch 256, one update per environment step after 1,000
    /// warm-up steps: gradient updates per second (environment steps included) over `steps` steps;
    /// and heap allocations per update.
    static func sacPendulum(steps: Int) throws -> BenchResult {
        var configuration = SACConfiguration()
        configuration.learningStarts = 1_000
        let agent = SACAgent(observationDimension: 3, actionLow: [-2], actionHigh: [2], configuration: configuration, seed: 0)
        let never = Int.max
        try agent.train(on: Pendulum(seed: 0), steps: 1_000, seed: 0, randomSteps: 1_000, evaluationEnvironment: Pendulum(),
                        evaluationInterval: never)
        let updatesBefore = agent.gradientSteps, allocationsBefore = drl_allocation_count()
        let start = Sampler.now()
        try agent.train(on: Pendulum(seed: 1), steps: steps, seed: 1, randomSteps: 0, evaluationEnvironment: Pendulum(),
                        evaluationInterval: never)
        let seconds = Sampler.now() - start
        let updates = agent.gradientSteps - updatesBefore
        let allocations = drl_allocation_count() - allocationsBefore
        return BenchResult(name: "sac_pendulum", value: Double(updates) / seconds, unit: "updates/s",
                           allocationsPerStep: allocationsBefore == UInt.max ? nil : Double(allocations) / Double(max(updates, 1)))
    }

    /// A2C on 8 CartPole copies, 64-64 tanh networks, rollouts of 5 steps (one update per 40
    /// environment steps): environment steps per second including learning over `steps` steps
    /// after a 4,000-step warm-up; and heap allocations per environment step.
    static func a2cCartPole(steps: Int) throws -> BenchResult {
        let copies = 8
        let agent = A2CAgent(observationDimension: 4, choices: [2], environments: copies, seed: 0)
        let vector = VectorEnvironment((0..<copies).map { _ in CartPole() })
        let never = Int.max
        try agent.train(on: vector, steps: 4_000, seed: 0, evaluationEnvironment: CartPole(), evaluationInterval: never)
        let stepsBefore = agent.environmentSteps, allocationsBefore = drl_allocation_count()
        let start = Sampler.now()
        try agent.train(on: vector, steps: steps, seed: 1, evaluationEnvironment: CartPole(), evaluationInterval: never)
        let seconds = Sampler.now() - start
        let taken = agent.environmentSteps - stepsBefore
        let allocations = drl_allocation_count() - allocationsBefore
        return BenchResult(name: "a2c_cartpole", value: Double(taken) / seconds, unit: "env_steps/s",
                           allocationsPerStep: allocationsBefore == UInt.max ? nil : Double(allocations) / Double(taken))
    }
}
