import DRLTensor

/// y = x·Eᵀ + b, where E is the first `rows` rows of an embedding table the layer does not own:
/// an output layer that scores each item by its input embedding (weight tying, as SASRec and
/// language models do), so the catalogue is learned once. Its only parameter is the bias; the
/// gradient of E accumulates into the embedding's. E is read at every call, so the layer follows
/// the table when a `ParameterStore` moves it.
public final class TiedOutput: Layer {
    public let embedding: Embedding
    public let rows: Int
    public let bias: Parameter
    public var isTraining = true
    private var input = Tensor(zeros: Shape(0, 0))
    private var output = Buffer(), gradInput = Buffer()

    public init(_ embedding: Embedding, rows: Int) {
        require(rows > 0 && rows <= embedding.count, "TiedOutput: \(rows) rows of a table of \(embedding.count)")
        self.embedding = embedding
        self.rows = rows
        bias = Parameter("bias", shape: Shape(rows))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("bias", bias)] }

    /// E, [rows, dimension].
    public var weight: Tensor { embedding.weight.value[rows: 0..<rows] }

    public func forward(_ x: Tensor) -> Tensor {
        let d = embedding.dimension
        require(x.rank == 2 && x.shape[1] == d, "TiedOutput: input \(x.shape) needs shape [batch, \(d)]")
        input = x
        var y = output.view(Shape(x.shape[0], rows))
        gemm(x, weight, into: &y, transposeB: true, bias: bias.value)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        backwardParametersOnly(gradOutput)
        var dx = gradInput.view(input.shape)
        gemm(gradOutput, weight, into: &dx)
        return dx
    }

    public func backwardParametersOnly(_ gradOutput: Tensor) {
        require(gradOutput.shape == Shape(input.shape[0], rows), "TiedOutput.backward: gradient \(gradOutput.shape) does not match the last output")
        if !embedding.weight.isFrozen {
            var dE = embedding.weight.gradient[rows: 0..<rows]
            gemm(gradOutput, input, into: &dE, transposeA: true, beta: 1)  // dE += dYᵀ·X
        }
        if !bias.isFrozen {
            var db = bias.gradient
            columnSums(gradOutput, into: &db, accumulate: true)
        }
    }
}
