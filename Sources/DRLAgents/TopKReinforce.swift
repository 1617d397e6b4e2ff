import DRLNN
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of `TopKReinforceAgent`.
public struct TopKReinforceConfiguration: Sendable {
    public var hiddenSizes = [128]
    public var activation: Activation = .relu
    public var learningRate: Float = 1e-3
    /// Items recommended together (K). K = 1 is plain off-policy REINFORCE.
    public var slateSize = 1
    /// Cap c on the importance weight π/β (Chen et al. cap it to bound the variance).
    public var weightCap: Float = 10
    /// Correct for the logging policy at all; false trains on the logs as if they were on-policy
    /// (the biased baseline the correction is measured against).
    public var offPolicyCorrection = true
    public var maxGradientNorm: Float = 10

    public init() {}
}

/// REINFORCE with the top-K off-policy correction of Chen et al., "Top-K Off-Policy Correction for
/// a REINFORCE Recommender System" (WSDM 2019). It learns from logged (state, item, return) triples
/// that another policy β chose:
/// - a behaviour head estimates β(a | s) from the same state features by cross-entropy on the
///   logged items, with no gradient into the shared trunk (the paper blocks it);
/// - each sample's policy gradient is weighted by min(π(a | s)/β(a | s), c) · λ_K(s, a) · R, where
///   λ_K = K·(1 − π(a | s))^(K−1) corrects for recommending K items at once.
/// The policy is a one-head `CategoricalPolicy` over the items; a slate is its top K.
public final class TopKReinforceAgent {
    public let configuration: TopKReinforceConfiguration
    public let stateDimension: Int, items: Int
    public let policy: CategoricalPolicy
    public let behaviorHead: Linear
    public let store: ParameterStore
    public let optimizer: Adam
    public private(set) var updates = 0
    /// The per-sample weights of the last update: min(π/β, c)·λ_K·R (R alone without correction);
    /// a buffer of the agent, valid until its next update.
    public private(set) var lastWeights = Tensor(zeros: Shape(0))
    private let policyLoss = SoftmaxCrossEntropyLoss(), behaviorLoss = SoftmaxCrossEntropyLoss()
    private var weightBuffer = Buffer(), probabilityBuffer = Buffer()
    private var policyProbabilities = Buffer(), behaviorProbabilities = Buffer()
    private var slateValues = Buffer()

    public init(stateDimension: Int, items: Int, configuration: TopKReinforceConfiguration = TopKReinforceConfiguration(),
                seed: UInt64) {
        require(configuration.slateSize >= 1 && configuration.slateSize <= items,
                "TopKReinforceAgent: slate size \(configuration.slateSize) must lie in 1...\(items)")
        require(configuration.weightCap > 0, "TopKReinforceAgent: the weight cap must be positive, got \(configuration.weightCap)")
        self.configuration = configuration
        self.stateDimension = stateDimension
        self.items = items
        var initializer = RandomGenerator(seed: seed, stream: 1)
        policy = CategoricalPolicy(observationDimension: stateDimension, hiddenSizes: configuration.hiddenSizes, choices: [items],
                                   activation: configuration.activation, headGain: 0.01, using: &initializer)
        behaviorHead = Linear(configuration.hiddenSizes.last!, items, weightInit: .orthogonal(gain: 0.01), biasInit: .zeros,
                              using: &initializer)
        store = ParameterStore(prefixedParameters([("policy", policy), ("behavior", behaviorHead)]))
        optimizer = Adam(store, learningRate: configuration.learningRate)
    }

    /// The top-K multiplier λ_K = K·(1 − π)^(K−1): the derivative of the probability that an item
    /// appears among K independent draws from π, 1 − (1 − π)^K, relative to that of one draw.
    public static func topKMultiplier(probability: Float, slateSize k: Int) -> Float {
        Float(k) * powf(1 - probability, Float(k - 1))
    }

    /// One gradient step on logged samples: `states` [n, stateDimension], the logged `actions`
    /// (n item indices) and their `returns` (n discounted returns from that step on). Returns the
    /// policy loss (mean of weight·(−log π)) and the behaviour head's cross-entropy.
    @discardableResult
    public func update(states: Tensor, actions: [Int32], returns: Tensor) throws(NonFiniteError) -> (policy: Float, behavior: Float) {
        let n = states.shape[0]
        require(states.shape == Shape(n, stateDimension) && actions.count == n && returns.count == n,
                "TopKReinforceAgent.update: states \(states.shape), \(actions.count) actions and \(returns.count) returns do not match [n, \(stateDimension)]")
        for (i, a) in actions.enumerated() where a < 0 || Int(a) >= items {
            requirementFailure("TopKReinforceAgent.update: action \(a) of sample \(i) is outside 0..<\(items)")
        }
        store.zeroGradients()
        policy.forward(states)
        let behaviorLogits = behaviorHead.forward(policy.features)
        var weights = weightBuffer.view(Shape(n))
        if configuration.offPolicyCorrection {
            var pi = policyProbabilities.view(Shape(n, items)), beta = behaviorProbabilities.view(Shape(n, items))
            softmax(policy.logits[0], into: &pi)
            softmax(behaviorLogits, into: &beta)
            for i in 0..<n {
                let a = Int(actions[i])
                let p = pi[i, a]
                let ratio = min(p / max(beta[i, a], 1e-12), configuration.weightCap)
                weights[flat: i] = ratio * Self.topKMultiplier(probability: p, slateSize: configuration.slateSize) * returns[flat: i]
            }
        } else {
            weights.copy(from: returns.reshaped(Shape(n)))
        }
        lastWeights = weights
        // −weight·log π(a | s) is the cross-entropy against the logged item, weighted; the weights
        // are constants of the gradient (no derivative through π/β or λ_K).
        let policyValue = policyLoss(policy.logits[0], targets: actions, weights: weights)
        let behaviorValue = behaviorLoss(behaviorLogits, targets: actions)
        // Named only on failure: building the list every step would allocate.
        if !(policyValue.isFinite && behaviorValue.isFinite) {
            for (name, value) in [("policy loss", policyValue), ("behaviour loss", behaviorValue)] where !value.isFinite {
                throw NonFiniteError(quantity: "loss", parameter: "top-K REINFORCE \(name)", element: updates, value: value)
            }
        }
        behaviorHead.backwardParametersOnly(behaviorLoss.gradient)
        policy.backward([policyLoss.gradient])
        store.clipGradientNorm(configuration.maxGradientNorm)
        try optimizer.update()
        updates += 1
        return (policyValue, behaviorValue)
    }

    /// The policy's probabilities π(· | s) and the behaviour estimate β(· | s) for `states`
    /// [n, stateDimension] (buffers of the agent, valid until its next call).
    public func probabilities(_ states: Tensor) -> (policy: Tensor, behavior: Tensor) {
        let n = states.shape[0]
        policy.forward(states)
        var pi = policyProbabilities.view(Shape(n, items)), beta = behaviorProbabilities.view(Shape(n, items))
        softmax(policy.logits[0], into: &pi)
        softmax(behaviorHead.forward(policy.features), into: &beta)
        return (pi, beta)
    }

    /// The K items of highest policy probability for each state of `states` [n, stateDimension],
    /// best first, into `slates` (n·K entries).
    public func recommend(_ states: Tensor, into slates: inout [Int32]) {
        let n = states.shape[0], k = configuration.slateSize
        policy.forward(states)
        var values = slateValues.view(Shape(n, k))
        topK(policy.logits[0], k: k, values: &values, indices: &slates)
    }

}

/// A top-K REINFORCE checkpoint holds the policy, the behaviour head, Adam's state and the update
/// count; the agent learns from logged slates and draws nothing at random, so its generator is a
/// fixed placeholder.
extension TopKReinforceAgent: CheckpointedAgent {
    public var checkpointKind: String { "topk-reinforce" }
    public var checkpointHyperparameters: String { ConfigurationFile.text(of: configuration) }
    public var checkpointParts: [CheckpointPart] { [CheckpointPart(prefix: "", store: store, optimizer: optimizer)] }
    public var checkpointPolicyTensors: [(name: String, tensor: Tensor)] { checkpointParts[0].parameterTensors }
    public var checkpointReplay: ReplayBuffer? { nil }

    public var checkpointCounters: AgentCheckpoint.Counters {
        get { .init(environmentSteps: 0, gradientSteps: updates, generator: RandomGenerator(seed: 0)) }
        set { updates = newValue.gradientSteps }
    }
}
