import DRLTensor

/// A lookup table of `count` vectors of `dimension` features. The backward pass scatter-adds into
/// the rows that were used (a sparse gradient in a dense buffer); the `paddingIndex` row, if any,
/// starts at zero and never receives a gradient.
public final class Embedding: Module {
    public let count: Int, dimension: Int
    public let paddingIndex: Int32?
    public let weight: Parameter
    public var isTraining = true
    private var indices: [Int32] = []
    private var output = Buffer()

    /// Vectors from `initializer`, or N(0, 1) (PyTorch's default) when it is nil.
    public init(_ count: Int, _ dimension: Int, paddingIndex: Int32? = nil, initializer: Initializer? = nil,
                using rng: inout RandomGenerator) {
        require(count > 0 && dimension > 0, "Embedding(\(count), \(dimension)) needs positive sizes")
        require(paddingIndex.map { $0 >= 0 && Int($0) < count } ?? true,
                "Embedding: padding index \(paddingIndex!) is outside 0..<\(count)")
        self.count = count
        self.dimension = dimension
        self.paddingIndex = paddingIndex
        weight = Parameter("weight", shape: Shape(count, dimension))
        if let initializer {
            initializer.fill(&weight.value, fanIn: count, fanOut: dimension, using: &rng)
        } else {
            rng.fillNormal(&weight.value)
        }
        if let paddingIndex { weight.value[row: Int(paddingIndex)] = Tensor(zeros: Shape(dimension)) }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// Rows for `indices`, shaped `shape` + [dimension] (shape's element count must equal indices.count).
    public func forward(_ indices: [Int32], shape: Shape) -> Tensor {
        require(shape.elementCount == indices.count, "Embedding: \(indices.count) indices for shape \(shape)")
        require(shape.rank < Shape.maxRank, "Embedding: index shape \(shape) leaves no room for the feature axis")
        self.indices.removeAll(keepingCapacity: true)
        self.indices.append(contentsOf: indices)
        var y = output.view(Shape(indices.count, dimension))
        gatherRows(weight.value, indices: indices, into: &y)
        return y.reshaped(shape.appending(dimension))
    }

    /// Accumulates the gradient of the last forward's output into the used rows.
    public func backward(_ gradOutput: Tensor) {
        guard !weight.isFrozen else { return }
        require(gradOutput.count == indices.count * dimension,
                "Embedding.backward: gradient \(gradOutput.shape) does not match \(indices.count) looked-up rows")
        var g = weight.gradient
        scatterAddRows(gradOutput.reshaped(Shape(indices.count, dimension)), indices: indices, into: &g,
                       paddingIndex: paddingIndex)
    }
}
