import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Adds a learned vector per position to [batch, time, features] inputs (time ≤ maxLength).
public final class LearnedPositionalEncoding: Layer {
    public let maxLength: Int, dimension: Int
    public let table: Parameter
    public var isTraining = true
    private var output = Buffer()
    private var time = 0

    public init(maxLength: Int, dimension: Int, using rng: inout RandomGenerator) {
        require(maxLength > 0 && dimension > 0, "LearnedPositionalEncoding(\(maxLength), \(dimension)) needs positive sizes")
        self.maxLength = maxLength
        self.dimension = dimension
        table = Parameter("weight", shape: Shape(maxLength, dimension))
        rng.fillNormal(&table.value, std: 0.02)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", table)] }

    public func forward(_ x: Tensor) -> Tensor {
        require(x.rank == 3 && x.shape[2] == dimension && x.shape[1] <= maxLength,
                "LearnedPositionalEncoding(\(maxLength), \(dimension)): input \(x.shape) must be [batch, ≤ \(maxLength), \(dimension)]")
        time = x.shape[1]
        let y = output.view(x.shape)
        for b in 0..<x.shape[0] {
            var row = y[row: b]
            add(x[row: b], table.value[rows: 0..<time], into: &row)
        }
        return y
    }

    /// dx = dy; the table's row t gathers Σ over the batch of dy[b, t].
    public func backward(_ gradOutput: Tensor) -> Tensor {
        if !table.isFrozen {
            var dt = table.gradient[rows: 0..<time]
            for b in 0..<gradOutput.shape[0] { dt += gradOutput[row: b] }
        }
        return gradOutput
    }
}

/// Adds the fixed sinusoids of Vaswani et al.: PE[t, 2i] = sin(t / 10000^(2i/d)),
/// PE[t, 2i+1] = cos(t / 10000^(2i/d)). No parameters.
public final class SinusoidalPositionalEncoding: Layer {
    public let maxLength: Int, dimension: Int
    public let table: Tensor
    public var isTraining = true
    private var output = Buffer()

    public init(maxLength: Int, dimension: Int) {
        require(maxLength > 0 && dimension > 0, "SinusoidalPositionalEncoding(\(maxLength), \(dimension)) needs positive sizes")
        self.maxLength = maxLength
        self.dimension = dimension
        table = Tensor(shape: Shape(maxLength, dimension), generator: { index in
            let t = Double(index / dimension), i = index % dimension
            let angle = t / pow(10000, Double(i - i % 2) / Double(dimension))
            return Float(i % 2 == 0 ? sin(angle) : cos(angle))
        })
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        require(x.rank == 3 && x.shape[2] == dimension && x.shape[1] <= maxLength,
                "SinusoidalPositionalEncoding(\(maxLength), \(dimension)): input \(x.shape) must be [batch, ≤ \(maxLength), \(dimension)]")
        let y = output.view(x.shape)
        for b in 0..<x.shape[0] {
            var row = y[row: b]
            add(x[row: b], table[rows: 0..<x.shape[1]], into: &row)
        }
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor { gradOutput }
}
