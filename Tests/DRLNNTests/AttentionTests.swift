import DRLNN
import DRLTensor
import Testing

@Suite struct AttentionTests {
    @Test(arguments: [false, true])
    func gradientsMatchFiniteDifferences(causal: Bool) {
        var rng = RandomGenerator(seed: 21)
        let attention = MultiHeadSelfAttention(dimension: 8, heads: 2, causal: causal, using: &rng)
        GradientCheck.check(attention, input: randomTensor(Shape(2, 4, 8), seed: 22))
    }

    @Test func keyPaddingMaskedKeysGetNoWeightAndNoGradient() {
        var rng = RandomGenerator(seed: 23)
        let attention = MultiHeadSelfAttention(dimension: 8, heads: 2, causal: false, using: &rng)
        // Batch 0: last key padded; batch 1: first two keys padded.
        attention.keyPaddingMask = [false, false, false, true, true, true, false, false]
        let x = randomTensor(Shape(2, 4, 8), seed: 24)
        GradientCheck.check(attention, input: x)
        // Changing a padded position's input changes no other position's output.
        let y = attention.forward(x).clone()
        var changed = x.clone()
        for c in 0..<8 { changed[0, 3, c] += 5 }
        let y2 = attention.forward(changed)
        for t in 0..<3 { for c in 0..<8 { #expect(abs(y2[0, t, c] - y[0, t, c]) < 1e-6) } }
    }

    @Test func causalOutputsDoNotDependOnLaterPositions() {
        var rng = RandomGenerator(seed: 25)
        let attention = MultiHeadSelfAttention(dimension: 8, heads: 4, causal: true, using: &rng)
        let x = randomTensor(Shape(1, 5, 8), seed: 26)
        let y = attention.forward(x).clone()
        var later = x.clone()
        for c in 0..<8 { later[0, 4, c] -= 3 }
        let y2 = attention.forward(later)
        for t in 0..<4 { for c in 0..<8 { #expect(abs(y2[0, t, c] - y[0, t, c]) < 1e-6) } }
        #expect(abs(y2[0, 4, 0] - y[0, 4, 0]) > 1e-4)
    }

    @Test func transformerBlockGradients() {
        var rng = RandomGenerator(seed: 27)
        let block = TransformerBlock(dimension: 8, heads: 2, hidden: 16, causal: true, using: &rng)
        #expect(block.namedParameters.map(\.name) == [
            "ln1.weight", "ln1.bias", "attention.qkv.weight", "attention.qkv.bias", "attention.out.weight",
            "attention.out.bias", "ln2.weight", "ln2.bias", "ffn.0.weight", "ffn.0.bias", "ffn.2.weight", "ffn.2.bias",
        ])
        GradientCheck.check(block, input: randomTensor(Shape(2, 3, 8), seed: 28))
    }

    /// Dropout on the two residual branches acts in training only: evaluated, a block with it is
    /// the block without it (same weights, drawn alike); training, it drops.
    @Test func transformerBlockDropoutActsOnlyInTraining() {
        var rng = RandomGenerator(seed: 27), twin = RandomGenerator(seed: 27)
        let plain = TransformerBlock(dimension: 8, heads: 2, hidden: 16, causal: true, using: &rng)
        let dropping = TransformerBlock(dimension: 8, heads: 2, hidden: 16, causal: true, dropout: 0.5, using: &twin)
        let x = randomTensor(Shape(2, 3, 8), seed: 28)
        plain.isTraining = false
        dropping.isTraining = false
        #expect(dropping.forward(x) == plain.forward(x))
        dropping.isTraining = true
        plain.isTraining = true
        #expect(dropping.forward(x) != plain.forward(x))
    }
}
