import DRLTensor

/// y = x·Wᵀ + b with weight [out, in] (PyTorch's layout) and optional bias [out]. Inputs of any
/// rank ≥ 2 are used as [rows, in] matrices.
public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    public var isTraining = true

    private var input = Tensor(zeros: Shape(0, 0))
    /// The weight transposed, [in, out], for products OpenBLAS's small-matrix kernels take in
    /// blocks (they are fastest with an untransposed b; see `GemmBlocking`).
    private var transposedWeight = Tensor(zeros: Shape(0, 0))
    private var output = Buffer()
    private var gradInput = Buffer()

    /// Weights from `weightInit` (default: PyTorch's, U(±1/sqrt(in))), bias U(±1/sqrt(in)).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                weightInit: Initializer = .kaimingUniform(a: Float(5).squareRoot()),
                biasInit: Initializer? = nil, using rng: inout RandomGenerator) {
        require(inFeatures > 0 && outFeatures > 0, "Linear(\(inFeatures), \(outFeatures)) needs positive sizes")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter("weight", shape: Shape(outFeatures, inFeatures))
        weightInit.fill(&weight.value, fanIn: inFeatures, fanOut: outFeatures, using: &rng)
        if bias {
            let b = Parameter("bias", shape: Shape(outFeatures))
            (biasInit ?? .uniform(bound: 1 / Float(inFeatures).squareRoot()))
                .fill(&b.value, fanIn: inFeatures, fanOut: outFeatures, using: &rng)
            self.bias = b
        } else {
            self.bias = nil
        }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func forward(_ x: Tensor) -> Tensor {
        require(x.rank >= 2 && x.shape[-1] == inFeatures,
                "Linear(\(inFeatures), \(outFeatures)): input of shape \(x.shape) needs last dimension \(inFeatures)")
        input = x
        var outShape = x.shape
        outShape[-1] = outFeatures
        var y = output.view(outShape)
        // Where the product goes in small blocks (rounding as one call would), through Wᵀ.
        let blocked = smallBlockRows(m: y.shape.matrix.rows, n: outFeatures, k: inFeatures) != nil
        if blocked {
            if transposedWeight.shape != Shape(inFeatures, outFeatures) { transposedWeight = Tensor(zeros: Shape(inFeatures, outFeatures)) }
            transpose(weight.value, into: &transposedWeight)
        }
        let w = blocked ? transposedWeight : weight.value
        // y = x·Wᵀ + b, the bias copied into each block of rows just before its product.
        gemm(x, w, into: &y, transposeB: !blocked, bias: bias?.value, blocking: .smallCalls)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        accumulateParameterGradients(gradOutput)
        var dx = gradInput.view(input.shape)
        gemm(gradOutput, weight.value, into: &dx, blocking: .smallCalls)
        return dx
    }

    public func backwardParametersOnly(_ gradOutput: Tensor) { accumulateParameterGradients(gradOutput) }

    private func accumulateParameterGradients(_ dy: Tensor) {
        require(dy.shape.matrix.rows == input.shape.matrix.rows && dy.shape.matrix.cols == outFeatures,
                "Linear(\(inFeatures), \(outFeatures)).backward: gradient \(dy.shape) does not match the last output")
        if !weight.isFrozen {
            var dw = weight.gradient
            gemm(dy, input, into: &dw, transposeA: true, beta: 1, blocking: .smallCalls)  // dW += dYᵀ·X
        }
        if let bias, !bias.isFrozen {
            var db = bias.gradient
            columnSums(dy, into: &db, accumulate: true)
        }
    }
}
