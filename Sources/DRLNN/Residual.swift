import DRLTensor

/// y = x + f(x): a residual connection around any shape-preserving layer.
public final class Residual: Layer {
    public let body: Layer
    private var output = Buffer(), gradInput = Buffer()

    public init(_ body: Layer) { self.body = body }

    public var namedParameters: [(name: String, parameter: Parameter)] { body.namedParameters }
    public var isTraining: Bool {
        get { body.isTraining }
        set { body.isTraining = newValue }
    }

    public func forward(_ x: Tensor) -> Tensor {
        let fx = body.forward(x)
        require(fx.shape == x.shape, "Residual: the body maps \(x.shape) to \(fx.shape); shapes must match")
        var y = output.view(x.shape)
        add(x, fx, into: &y)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let dfx = body.backward(gradOutput)
        var dx = gradInput.view(gradOutput.shape)
        add(gradOutput, dfx, into: &dx)
        return dx
    }
}

/// A pre-LN transformer block: x + Dropout(MHA(LN1(x))), then + Dropout(FFN(LN2(·))) with FFN =
/// Linear(d, hidden), GELU (tanh form), Linear(hidden, d); the dropout acts only in training mode.
/// Parameters are named "ln1", "attention", "ln2", "ffn.0", "ffn.2".
public final class TransformerBlock: Layer {
    public let attention: MultiHeadSelfAttention
    public let norm1: LayerNorm, norm2: LayerNorm
    public let feedForward: Sequential
    private let attentionPath: Residual, feedForwardPath: Residual
    private let dropouts: (attention: Dropout, feedForward: Dropout)

    /// `dropoutSeed` seeds the two dropout masks (so blocks of one stack can draw different ones).
    public init(dimension: Int, heads: Int, hidden: Int, causal: Bool = true, dropout: Float = 0, dropoutSeed: UInt64 = 0,
                using rng: inout RandomGenerator) {
        norm1 = LayerNorm(dimension)
        attention = MultiHeadSelfAttention(dimension: dimension, heads: heads, causal: causal, using: &rng)
        norm2 = LayerNorm(dimension)
        feedForward = Sequential(Linear(dimension, hidden, using: &rng), ActivationLayer.gelu(),
                                 Linear(hidden, dimension, using: &rng))
        dropouts = (Dropout(rate: dropout, seed: dropoutSeed), Dropout(rate: dropout, seed: dropoutSeed &+ 1))
        attentionPath = Residual(Sequential(norm1, attention, dropouts.attention))
        feedForwardPath = Residual(Sequential(norm2, feedForward, dropouts.feedForward))
    }

    /// Restarts both dropout masks on `stream` (see `Dropout.useStream`).
    public func useDropoutStream(_ stream: UInt64) {
        dropouts.attention.useStream(stream)
        dropouts.feedForward.useStream(stream)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixedParameters([("ln1", norm1), ("attention", attention), ("ln2", norm2), ("ffn", feedForward)])
    }

    public var isTraining: Bool {
        get { attentionPath.isTraining }
        set { attentionPath.isTraining = newValue; feedForwardPath.isTraining = newValue }
    }

    public func forward(_ x: Tensor) -> Tensor { feedForwardPath.forward(attentionPath.forward(x)) }

    public func backward(_ gradOutput: Tensor) -> Tensor { attentionPath.backward(feedForwardPath.backward(gradOutput)) }
}
