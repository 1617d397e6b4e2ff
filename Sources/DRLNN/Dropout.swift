import DRLTensor

/// Inverted dropout: in training mode each element is zeroed with probability `rate` and the
/// survivors are scaled by 1/(1 − rate); in evaluation mode it is the identity.
public final class Dropout: Layer {
    public let rate: Float
    public var isTraining = true
    private var rng: RandomGenerator
    private var mask = Buffer()
    private var output = Buffer()
    private var gradInput = Buffer()
    private var lastWasIdentity = true

    private let seed: UInt64

    public init(rate: Float, seed: UInt64 = 0) {
        require(rate >= 0 && rate < 1, "Dropout rate must be in [0, 1), got \(rate)")
        self.rate = rate
        self.seed = seed
        rng = RandomGenerator(seed: seed, stream: 0xD20)
    }

    /// Restarts the masks on another stream of the same seed (stream 0 is the one a new layer
    /// draws from): what gives each rank of data-parallel training masks of its own.
    public func useStream(_ stream: UInt64) {
        rng = RandomGenerator(seed: seed, stream: 0xD20 &+ stream &* 0x1_0000)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [] }

    public func forward(_ x: Tensor) -> Tensor {
        lastWasIdentity = !isTraining || rate == 0
        if lastWasIdentity { return x }
        var m = mask.view(x.shape)
        let keep = 1 / (1 - rate)
        m.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = rng.uniform() < rate ? 0 : keep }
        }
        var y = output.view(x.shape)
        multiply(x, m, into: &y)
        return y
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        if lastWasIdentity { return gradOutput }
        var dx = gradInput.view(gradOutput.shape)
        multiply(gradOutput, mask.view(gradOutput.shape), into: &dx)
        return dx
    }
}
