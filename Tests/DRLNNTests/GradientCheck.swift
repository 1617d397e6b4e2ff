import DRLNN
import DRLTensor
import Testing

/// Central finite differences against the hand-written backward pass.
///
/// The probe loss is L = Σ dy ⊙ f(x), summed in Double, so that ∂L/∂x = backward(dy). Layers run in
/// Float32: with step h, rounding in f contributes about ε·Σ|dy·y|/h (ε = 6e-8) to the numeric
/// derivative and truncation about h²·|f'''|/6. With h = 1e-2 and unit-scale inputs both stay
/// below ~1e-4, so agreement within 2e-3·(1 + |g|) catches any wrong term (a wrong term is O(1))
/// while tolerating Float32 noise.
enum GradientCheck {
    static let step: Float = 1e-2
    static let tolerance: Double = 2e-3

    static func loss(_ y: Tensor, _ dy: Tensor) -> Double {
        var total = 0.0
        for i in 0..<y.count { total += Double(y[flat: i]) * Double(dy[flat: i]) }
        return total
    }

    static func expectClose(_ analytic: Float, _ numeric: Double, _ what: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(abs(Double(analytic) - numeric) <= tolerance * (1 + abs(numeric)),
                "\(what): backward \(analytic), finite difference \(numeric)", sourceLocation: sourceLocation)
    }

    /// Checks dL/dx and dL/dθ for every parameter of `layer` at input `x`. Frozen parameters get
    /// no gradient by design and are skipped, as are the elements `skipping(name, index)` names.
    static func check(_ layer: Layer, input x: Tensor, seed: UInt64 = 99, checkInput: Bool = true,
                      skipping: (String, Int) -> Bool = { _, _ in false }, sourceLocation: SourceLocation = #_sourceLocation) {
        var rng = RandomGenerator(seed: seed)
        let y0 = layer.forward(x).clone()
        let dy = Tensor.uniform(y0.shape, -1, 1, using: &rng)
        for (_, p) in layer.namedParameters { var g = p.gradient; g.fill(with: 0) }
        _ = layer.forward(x)
        let dx = layer.backward(dy).clone()
        if checkInput {
            for i in 0..<x.count {
                var plus = x.clone(), minus = x.clone()
                plus[flat: i] += step
                minus[flat: i] -= step
                let numeric = (loss(layer.forward(plus), dy) - loss(layer.forward(minus), dy)) / (2 * Double(step))
                expectClose(dx[flat: i], numeric, "input element \(i)", sourceLocation: sourceLocation)
            }
        }
        for (name, p) in layer.namedParameters where !p.isFrozen {
            let analytic = p.gradient.clone()
            var value = p.value
            for i in 0..<value.count where !skipping(name, i) {
                let original = value[flat: i]
                value[flat: i] = original + step
                let lp = loss(layer.forward(x), dy)
                value[flat: i] = original - step
                let lm = loss(layer.forward(x), dy)
                value[flat: i] = original
                expectClose(analytic[flat: i], (lp - lm) / (2 * Double(step)), "\(name)[\(i)]", sourceLocation: sourceLocation)
            }
        }
    }
}

func randomTensor(_ shape: Shape, seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low, high, using: &rng)
}
