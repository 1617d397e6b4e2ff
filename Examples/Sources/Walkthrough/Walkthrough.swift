import DRLAgents
import DRLNN
import DRLSimulation
import DRLTensor

/// DQN learns `Corridor` with discrete actions; returns the greedy policy's mean return over 10
/// episodes after `steps` environment steps (the best possible is 0.3, walking about is near −3).
public func trainDQN(steps: Int = 6_000, seed: UInt64 = 0) throws -> Float {
    var configuration = DQNConfiguration()
    configuration.hiddenSizes = [32, 32]
    configuration.learningStarts = 500
    configuration.trainFrequency = 4
    configuration.gradientSteps = 1
    configuration.targetUpdateInterval = 250
    // A short run: a constant learning rate (the default decays it to 0 over the run, which keeps
    // a long run's last policy from drifting).
    configuration.finalLearningRate = nil
    configuration.totalSteps = steps
    let environment = Corridor(continuous: false)
    let agent = DQNAgent(observationSpace: environment.observationSpace, actionSpace: environment.actionSpace,
                         configuration: configuration, seed: seed)
    // Evaluation runs on an instance of its own: sharing the training one is refused.
    let records = try agent.train(on: environment, steps: steps, seed: seed, evaluationEnvironment: Corridor(continuous: false),
                                  evaluationInterval: steps)
    return records.last!.meanReturn
}

/// SAC learns `Corridor` with a velocity in [−1, 1]; returns its deterministic policy's mean return.
public func trainSAC(steps: Int = 6_000, seed: UInt64 = 0) throws -> Float {
    var configuration = SACConfiguration()
    configuration.hiddenSizes = [64, 64]
    configuration.batchSize = 64
    configuration.learningStarts = 300
    configuration.gamma = 0.9
    let environment = Corridor(continuous: true)
    let agent = SACAgent(observationSpace: environment.observationSpace, actionSpace: environment.actionSpace,
                         configuration: configuration, seed: seed)
    let records = try agent.train(on: environment, steps: steps, seed: seed, randomSteps: 300,
                                  evaluationEnvironment: Corridor(continuous: true), evaluationInterval: steps)
    return records.last!.meanReturn
}

/// A DRLNN model trained for a few steps, saved as safetensors (which PyTorch reads) and loaded
/// into a second model built the same way; returns both models' outputs for one input.
public func saveAndLoadModel(at path: String) throws -> (saved: [Float], loaded: [Float]) {
    var rng = RandomGenerator(seed: 1)
    let model = Sequential.mlp([4, 16, 3], using: &rng)
    let store = ParameterStore(model)
    let optimizer = Adam(store, learningRate: 1e-2)
    let loss = SoftmaxCrossEntropyLoss()
    let x = Tensor.normal(Shape(8, 4), using: &rng)
    for _ in 0..<20 {
        store.zeroGradients()
        _ = loss(model.forward(x), targets: [0, 1, 2, 0, 1, 2, 0, 1])
        model.backwardFromLoss(loss.gradient)
        try optimizer.update()
    }
    try ModelCheckpoint.save(store, to: path)

    var other = RandomGenerator(seed: 2)
    let copy = Sequential.mlp([4, 16, 3], using: &other)
    let copyStore = ParameterStore(copy)
    try ModelCheckpoint.load(from: path, into: copyStore)
    return (model.forward(x).scalars, copy.forward(x).scalars)
}

/// The e-commerce simulator with two of its baselines on the same 300 simulated users: the
/// best-seller list against random slates. Returns (popularity, random) conversion rates.
public func ecommerceBaselines(users: Int = 300) -> (popularity: Float, random: Float) {
    let simulator = EcommerceSimulator()
    let popular = simulatePopulation(PopularityPolicy(catalogue: simulator.catalogue), on: simulator, users: users, seed: 0)
    let random = simulatePopulation(RandomPolicy(seed: 0), on: simulator, users: users, seed: 0)
    return (popular.conversionRate, random.conversionRate)
}
