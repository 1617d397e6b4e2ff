import DRLNN
import DRLTensor
import Foundation
import Testing

/// DRLNN's composite layers against PyTorch: outputs and gradients from
/// scripts/generate_reference_fixtures.py (autograd through nn.LayerNorm, nn.MultiheadAttention,
/// nn.GRU and F.cross_entropy), committed under Fixtures/reference.
@Suite struct ReferenceTests {
    struct Fixture {
        let tensors: [String: Tensor]
        subscript(_ name: String) -> Tensor { tensors[name]! }
    }

    func fixture(_ name: String) throws -> Fixture {
        let path = try #require(Bundle.module.path(forResource: name, ofType: "safetensors", inDirectory: "Fixtures/reference"))
        let (tensors, _) = try SafeTensors.read(from: path)
        return Fixture(tensors: Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) }))
    }

    /// max |a − b| / (1e-4·(1 + max |b|)) ≤ 1: agreement to 1e-4 relative to the tensor's scale.
    func expectMatches(_ actual: Tensor, _ expected: Tensor, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)", sourceLocation: sourceLocation)
        guard actual.shape == expected.shape else { return }
        let scale = expected.scalars.map { abs($0) }.max() ?? 0
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-4 * (1 + scale), "\(what): max difference \(worst) at scale \(scale)", sourceLocation: sourceLocation)
    }

    /// Loads the fixture's parameters into `layer`, runs forward and backward, and compares.
    func check(_ layer: Layer, _ f: Fixture, sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (name, parameter) in layer.namedParameters {
            var value = parameter.value
            value.copy(from: try #require(f.tensors[name], "fixture lacks parameter \(name)"))
        }
        let y = layer.forward(f["x"])
        expectMatches(y, f["y"], "output", sourceLocation: sourceLocation)
        let dx = layer.backward(f["dy"])
        expectMatches(dx, f["dx"], "input gradient", sourceLocation: sourceLocation)
        for (name, parameter) in layer.namedParameters {
            expectMatches(parameter.gradient, f["grad." + name], "gradient of \(name)", sourceLocation: sourceLocation)
        }
    }

    @Test func layerNorm() throws {
        try check(LayerNorm(16), fixture("layer_norm"))
    }

    @Test(arguments: [("attention", false), ("attention_causal", true)])
    func multiHeadAttention(name: String, causal: Bool) throws {
        var rng = RandomGenerator(seed: 0)
        try check(MultiHeadSelfAttention(dimension: 16, heads: 4, causal: causal, using: &rng), fixture(name))
    }

    @Test func attentionWithKeyPadding() throws {
        var rng = RandomGenerator(seed: 0)
        let attention = MultiHeadSelfAttention(dimension: 16, heads: 4, causal: false, using: &rng)
        let f = try fixture("attention_padding")
        attention.keyPaddingMask = f["key_padding_mask"].scalars.map { $0 != 0 }
        try check(attention, f)
    }

    @Test func transformerBlock() throws {
        var rng = RandomGenerator(seed: 0)
        try check(TransformerBlock(dimension: 16, heads: 2, hidden: 32, causal: true, using: &rng), fixture("transformer_block"))
    }

    @Test func gru() throws {
        var rng = RandomGenerator(seed: 0)
        try check(GRU(inputSize: 5, hiddenSize: 7, using: &rng), fixture("gru"))
    }

    @Test func softmaxCrossEntropy() throws {
        let f = try fixture("softmax_cross_entropy")
        let loss = SoftmaxCrossEntropyLoss()
        let value = loss(f["logits"], targets: f["targets"].scalars.map { Int32($0) }, weights: f["weights"])
        #expect(abs(value - f["loss"][flat: 0]) <= 1e-5 * (1 + abs(f["loss"][flat: 0])))
        expectMatches(loss.gradient, f["grad"], "logit gradient")
    }
}

extension ReferenceTests {
    @Test func lstm() throws {
        var rng = RandomGenerator(seed: 0)
        try check(LSTM(inputSize: 5, hiddenSize: 6, using: &rng), fixture("lstm"))
    }

    @Test func causalDilatedConv1d() throws {
        var rng = RandomGenerator(seed: 0)
        try check(Conv1d(4, 6, kernelSize: 3, dilation: 2, padding: .causal, using: &rng), fixture("conv1d_causal_dilated"))
    }

    @Test func validConv1d() throws {
        var rng = RandomGenerator(seed: 0)
        try check(Conv1d(4, 6, kernelSize: 4, padding: .valid, using: &rng), fixture("conv1d_valid"))
    }
}
