import DRLNN
import DRLTensor

/// The dueling Q-head of Wang et al.: Q(s, a) = V(s) + A(s, a) − mean over a′ of A(s, a′), from a
/// shared feature vector, with a Linear value stream and a Linear advantage stream.
public final class DuelingHead: Layer {
    public let value: Linear, advantage: Linear
    public var isTraining = true
    private var output = Buffer(), dValue = Buffer(), dAdvantage = Buffer(), gradInput = Buffer()

    public init(features: Int, actions: Int, using rng: inout RandomGenerator) {
        value = Linear(features, 1, using: &rng)
        advantage = Linear(features, actions, using: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixedParameters([("value", value), ("advantage", advantage)])
    }

    public func forward(_ x: Tensor) -> Tensor {
        let v = value.forward(x), a = advantage.forward(x)
        let (rows, actions) = a.shape.matrix
        var q = output.view(a.shape)
        for r in 0..<rows {
            var mean: Float = 0
            for j in 0..<actions { mean += a[r, j] }
            mean /= Float(actions)
            for j in 0..<actions { q[r, j] = v[flat: r] + a[r, j] - mean }
        }
        return q
    }

    /// dV = Σⱼ dQⱼ; dAₖ = dQₖ − mean over j of dQⱼ.
    public func backward(_ gradOutput: Tensor) -> Tensor {
        let (rows, actions) = gradOutput.shape.matrix
        var dv = dValue.view(Shape(rows, 1)), da = dAdvantage.view(gradOutput.shape)
        for r in 0..<rows {
            var total: Float = 0
            for j in 0..<actions { total += gradOutput[r, j] }
            dv[r, 0] = total
            for j in 0..<actions { da[r, j] = gradOutput[r, j] - total / Float(actions) }
        }
        let fromValue = value.backward(dv), fromAdvantage = advantage.backward(da)
        var dx = gradInput.view(fromValue.shape)
        add(fromValue, fromAdvantage, into: &dx)
        return dx
    }
}
