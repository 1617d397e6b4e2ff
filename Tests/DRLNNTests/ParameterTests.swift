import DRLNN
import DRLTensor
import Testing

@Suite struct ParameterTests {
    @Test func valueAndGradientAreWorkspaceTensorsSharingWrites() {
        let p = Parameter("weight", shape: Shape(2, 3))
        #expect(p.value.isWorkspace && p.gradient.isWorkspace && p.shape == Shape(2, 3))
        var view = p.value
        view[1, 2] = 5
        #expect(p.value[1, 2] == 5)
        var rows = p.gradient[rows: 0..<1]
        rows.fill(with: 2)
        #expect(p.gradient.scalars == [2, 2, 2, 0, 0, 0])
    }
}

extension ParameterTests {
    /// Freezing one of LayerNorm's parameters stops only its gradient: the other still accumulates.
    @Test func frozenLayerNormGammaGetsNoGradientWhileBetaDoes() {
        var rng = RandomGenerator(seed: 3)
        let norm = LayerNorm(4)
        norm.gamma.isFrozen = true
        let x = Tensor.normal(Shape(3, 4), using: &rng), dy = Tensor.normal(Shape(3, 4), using: &rng)
        _ = norm.forward(x)
        _ = norm.backward(dy)
        #expect((0..<4).allSatisfy { norm.gamma.gradient[flat: $0] == 0 })
        for c in 0..<4 { #expect(abs(norm.beta.gradient[flat: c] - (0..<3).map { dy[$0, c] }.reduce(0, +)) < 1e-5) }
    }
}
