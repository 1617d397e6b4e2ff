import DRLTensor

/// Layer normalisation over the last dimension with learned gain and bias (Ba et al.):
/// y = (x − mean)·rstd·gamma + beta, rstd = 1/sqrt(var + eps).
public final class LayerNorm: Layer {
    public let features: Int
    public let epsilon: Float
    public let gamma: Parameter, beta: Parameter
    public var isTraining = true
    private var input = Tensor(zeros: Shape(0, 0))
    private var mean = Buffer(), rstd = Buffer()
    private var output = Buffer(), gradInput = Buffer()

    public init(_ features: Int, epsilon: Float = 1e-5) {
        require(features > 0, "LayerNorm needs a positive feature count, got \(features)")
        self.features = features
        self.epsilon = epsilon
        gamma = Parameter("weight", shape: Shape(features))
        beta = Parameter("bias", shape: Shape(features))
        gamma.value.fill(with: 1)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", gamma), ("bias", beta)] }

    public func forward(_ x: Tensor) -> Tensor {
        require(x.shape[-1] == features, "LayerNorm(\(features)): input \(x.shape) has last dimension \(x.shape[-1])")
        input = x
        let rows = x.shape.matrix.rows
        var y = output.view(x.shape), mu = mean.view(Shape(rows)), rs = rstd.view(Shape(rows))
        layerNorm(x, gamma: gamma.value, beta: beta.value, epsilon: epsilon, into: &y, mean: &mu, rstd: &rs)
        return y
    }

    /// With n = (x − mean)·rstd and dn = dy·gamma:
    /// dx = rstd·(dn − mean(dn) − n·mean(dn·n)), dgamma += Σ dy·n, dbeta += Σ dy.
    public func backward(_ gradOutput: Tensor) -> Tensor {
        let rows = input.shape.matrix.rows
        var dx = gradInput.view(input.shape)
        var dgamma = gamma.gradient, dbeta = beta.gradient
        layerNormBackward(input: input, gamma: gamma.value, mean: mean.view(Shape(rows)), rstd: rstd.view(Shape(rows)),
                          gradOutput: gradOutput, into: &dx, gammaGradient: &dgamma, betaGradient: &dbeta,
                          accumulateGamma: !gamma.isFrozen, accumulateBeta: !beta.isFrozen)
        return dx
    }
}
