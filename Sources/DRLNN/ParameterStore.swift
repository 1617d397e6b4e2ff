import DRLTensor

/// All parameters of a model in two flat workspace buffers, values and gradients, with each
/// parameter's `value` and `gradient` rebound to views into them (llm.c's layout). Optimizer steps,
/// gradient clipping, zeroing and target-network updates are then single passes over one buffer.
public final class ParameterStore {
    public let parameters: [(name: String, parameter: Parameter)]
    /// Flat [count] buffers; parameter i occupies `ranges[i]`.
    public let values: Tensor
    public let gradients: Tensor
    public let ranges: [Range<Int>]

    /// Gathers the parameters of `module`, keeping their current values.
    public convenience init(_ module: Module) { self.init(module.namedParameters) }

    public init(_ named: [(name: String, parameter: Parameter)]) {
        var seen = Set<String>()
        for (name, _) in named {
            require(seen.insert(name).inserted, "ParameterStore: two parameters are named '\(name)'")
        }
        var offset = 0
        var ranges: [Range<Int>] = []
        for (_, p) in named {
            ranges.append(offset..<(offset + p.value.count))
            offset += p.value.count
        }
        let values = Tensor(workspace: Shape(offset))
        let gradients = Tensor(workspace: Shape(offset))
        for ((_, p), range) in zip(named, ranges) {
            var valueView = values[rows: range].reshaped(p.shape)
            valueView.copy(from: p.value)
            var gradientView = gradients[rows: range].reshaped(p.shape)
            gradientView.copy(from: p.gradient)
            p.value = valueView
            p.gradient = gradientView
        }
        parameters = named
        self.values = values
        self.gradients = gradients
        self.ranges = ranges
    }

    /// Number of scalars.
    public var count: Int { values.count }

    /// Calls `body` on each maximal run of consecutive parameters that are not frozen (what
    /// optimizers update), without allocating.
    public func forEachTrainableRun(_ body: (Range<Int>) -> Void) {
        var start = -1, end = -1
        for ((_, p), range) in zip(parameters, ranges) where !p.isFrozen && !range.isEmpty {
            if range.lowerBound == end {
                end = range.upperBound
            } else {
                if start >= 0 { body(start..<end) }
                (start, end) = (range.lowerBound, range.upperBound)
            }
        }
        if start >= 0 { body(start..<end) }
    }

    /// A 64-bit FNV-1a hash of every value's bits: equal on two copies of a model exactly when
    /// (barring a collision) their parameters are bit for bit the same.
    public func valuesHash() -> UInt64 {
        values.withUnsafeBufferPointer { v in
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for x in v {
                hash ^= UInt64(x.bitPattern)
                hash = hash &* 0x0000_0100_0000_01B3
            }
            return hash
        }
    }

    /// Sets every gradient to zero.
    public func zeroGradients() {
        var g = gradients
        g.fill(with: 0)
    }

    /// Global L2 norm of the gradients of the trainable parameters.
    public func gradientNorm() -> Float {
        var squares: Float = 0
        forEachTrainableRun { range in
            let n = nrm2(gradients[rows: range])
            squares += n * n
        }
        return squares.squareRoot()
    }

    /// Scales the trainable gradients so that their global norm is at most `maxNorm`; returns the
    /// norm before clipping.
    @discardableResult
    public func clipGradientNorm(_ maxNorm: Float) -> Float {
        require(maxNorm > 0, "clipGradientNorm: maxNorm must be positive, got \(maxNorm)")
        let norm = gradientNorm()
        if norm > maxNorm {
            let scale = maxNorm / (norm + 1e-6)
            forEachTrainableRun { range in
                var g = gradients[rows: range]
                scal(scale, &g)
            }
        }
        return norm
    }

    /// Polyak averaging for target networks: θ ← (1 − tau)·θ + tau·θ_source, over all values.
    /// `source` must have the same layout (the same architecture).
    public func polyakUpdate(from source: ParameterStore, tau: Float) {
        require(source.ranges == ranges, "polyakUpdate: the two models have different parameter layouts")
        require(tau >= 0 && tau <= 1, "polyakUpdate: tau must be in [0, 1], got \(tau)")
        var v = values
        scal(1 - tau, &v)
        axpy(tau, source.values, &v)
    }

    /// Copies all values from `source` (hard target-network update).
    public func copyValues(from source: ParameterStore) {
        require(source.ranges == ranges, "copyValues: the two models have different parameter layouts")
        var v = values
        v.copy(from: source.values)
    }

    /// The first non-finite gradient (or, with `values: true`, value), by parameter, or nil.
    public func firstNonFinite(inValues values: Bool = false) -> NonFiniteError? {
        let buffer = values ? self.values : gradients
        guard let flat = buffer.firstNonFiniteIndex() else { return nil }
        let i = ranges.firstIndex { $0.contains(flat) }!
        return NonFiniteError(quantity: values ? "value" : "gradient", parameter: parameters[i].name,
                              element: flat - ranges[i].lowerBound, value: buffer[flat: flat])
    }
}

/// A NaN or infinity found in training, with where it was: the step is refused rather than applied.
public struct NonFiniteError: Error, Equatable, CustomStringConvertible {
    /// "gradient", "value" or "loss".
    public let quantity: String
    /// The parameter's name in its store ("0.weight"), or what the loss was.
    public let parameter: String
    /// Flat element index within the parameter.
    public let element: Int
    public let value: Float

    public init(quantity: String, parameter: String, element: Int, value: Float) {
        self.quantity = quantity
        self.parameter = parameter
        self.element = element
        self.value = value
    }

    public var description: String {
        "non-finite \(quantity) \(value) in '\(parameter)' at element \(element); the update was not applied"
    }
}
