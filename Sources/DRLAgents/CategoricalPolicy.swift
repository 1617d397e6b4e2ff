import DRLNN
import DRLTensor

/// A stochastic policy over one or more discrete choices made together: one trunk shared by every
/// choice and one Linear head of logits per choice, the choices independent given the trunk's
/// features (π(a | s) = Πₕ softmax(zₕ)[aₕ]). One head is the usual categorical policy; two heads
/// are the education scenario's two-path actor (difficulty and content type).
public final class CategoricalPolicy: Module {
    public let trunk: Sequential
    public let heads: [Linear]
    /// Number of options of each choice.
    public let choices: [Int]
    /// Logits of each head [rows, choices[h]] from the last `forward`.
    public private(set) var logits: [Tensor]
    /// The trunk's output [rows, last hidden size] from the last `forward` (the state features the
    /// heads read; other heads, such as a behaviour-policy estimate, can read them too).
    public private(set) var features = Tensor(zeros: Shape(0, 0))
    /// Softmax of `logits`, filled by `sample` and `probabilities(head:)`.
    private var probabilityBuffers: [Buffer]
    private var trunkGradient = Buffer()

    /// A trunk of `hiddenSizes` with `activation` (orthogonal weights with gain √2, zero biases, as
    /// Stable-Baselines3 initialises actor-critic networks) and heads whose weights have the small
    /// gain `headGain` so that the initial policy is close to uniform.
    public init(observationDimension: Int, hiddenSizes: [Int], choices: [Int], activation: Activation = .tanh,
                headGain: Float = 0.01, using rng: inout RandomGenerator) {
        require(observationDimension > 0 && !hiddenSizes.isEmpty && hiddenSizes.allSatisfy { $0 > 0 },
                "CategoricalPolicy needs a positive observation dimension and hidden sizes, got \(observationDimension), \(hiddenSizes)")
        require(!choices.isEmpty && choices.allSatisfy { $0 > 1 }, "CategoricalPolicy: every choice needs at least two options, got \(choices)")
        self.choices = choices
        trunk = orthogonalPerceptron([observationDimension] + hiddenSizes, activation: activation, using: &rng)
        heads = choices.map { Linear(hiddenSizes.last!, $0, weightInit: .orthogonal(gain: headGain), biasInit: .zeros, using: &rng) }
        logits = choices.map { Tensor(zeros: Shape(0, $0)) }
        probabilityBuffers = choices.map { _ in Buffer() }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixedParameters([("trunk", trunk)] + heads.enumerated().map { ("head\($0.offset)", $0.element as Module) })
    }

    public var isTraining: Bool {
        get { trunk.isTraining }
        set {
            trunk.isTraining = newValue
            for head in heads { head.isTraining = newValue }
        }
    }

    /// Computes every head's logits for `observations` [rows, dimension] into `logits`.
    public func forward(_ observations: Tensor) {
        features = trunk.forward(observations)
        for h in heads.indices { logits[h] = heads[h].forward(features) }
    }

    /// The softmax of head `h`'s last logits (a buffer of the policy, valid until the next call for that head).
    public func probabilities(head h: Int) -> Tensor {
        var p = probabilityBuffers[h].view(logits[h].shape)
        softmax(logits[h], into: &p)
        return p
    }

    /// Draws an action per row of the last `forward` into `actions` [rows, heads] (option indices
    /// as Floats), or the most probable option of each head when `greedy`.
    public func sample(into actions: inout Tensor, greedy: Bool, using rng: inout RandomGenerator) {
        let rows = logits[0].shape[0]
        require(actions.shape == Shape(rows, heads.count),
                "CategoricalPolicy.sample: actions \(actions.shape) should be [\(rows), \(heads.count)]")
        for h in heads.indices {
            let p = probabilities(head: h)
            let n = choices[h]
            p.withUnsafeBufferPointer { probabilities in
                for r in 0..<rows {
                    let row = UnsafeBufferPointer(rebasing: probabilities[(r * n)..<((r + 1) * n)])
                    let choice = greedy ? (indexOfMaximum(row) ?? 0) : rng.categorical(row)
                    actions[r, h] = Float(choice)
                }
            }
        }
    }

    /// Backward from the gradients of the loss with respect to each head's logits (same shapes as
    /// `logits`): accumulates the parameter gradients of the heads and the trunk.
    public func backward(_ logitGradients: [Tensor]) {
        require(logitGradients.count == heads.count, "CategoricalPolicy.backward: \(logitGradients.count) gradients for \(heads.count) heads")
        if heads.count == 1 {
            trunk.backwardParametersOnly(heads[0].backward(logitGradients[0]))
            return
        }
        // Each head's input gradient lives in that head's buffer; the trunk gets their sum.
        let first = heads[0].backward(logitGradients[0])
        var dFeatures = trunkGradient.view(first.shape)
        dFeatures.copy(from: first)
        for h in 1..<heads.count { dFeatures += heads[h].backward(logitGradients[h]) }
        trunk.backwardParametersOnly(dFeatures)
    }
}

/// The index of the largest element of `row` (the first on ties), nil when empty.
func indexOfMaximum(_ row: UnsafeBufferPointer<Float>) -> Int? {
    guard !row.isEmpty else { return nil }
    var best = 0
    for i in 1..<row.count where row[i] > row[best] { best = i }
    return best
}

/// Linear layers of `sizes` with `activation` after each one (the trunk of an actor or critic),
/// initialised orthogonally with gain √2 and zero biases.
func orthogonalPerceptron(_ sizes: [Int], activation: Activation, outputGain: Float? = nil,
                          using rng: inout RandomGenerator) -> Sequential {
    var layers: [Layer] = []
    for i in 0..<(sizes.count - 1) {
        let isOutput = outputGain != nil && i == sizes.count - 2
        layers.append(Linear(sizes[i], sizes[i + 1], weightInit: .orthogonal(gain: isOutput ? outputGain! : Float(2).squareRoot()),
                             biasInit: .zeros, using: &rng))
        if !isOutput { layers.append(ActivationLayer(activation)) }
    }
    return Sequential(layers, computesInputGradient: false)
}
