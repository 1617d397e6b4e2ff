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
}
