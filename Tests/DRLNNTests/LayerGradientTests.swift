import DRLNN
import DRLTensor
import Testing

@Suite struct LayerGradientTests {
    @Test func linearWithAndWithoutBias() {
        var rng = RandomGenerator(seed: 1)
        GradientCheck.check(Linear(5, 3, using: &rng), input: randomTensor(Shape(4, 5), seed: 2))
        GradientCheck.check(Linear(4, 6, bias: false, using: &rng), input: randomTensor(Shape(3, 4), seed: 3))
        // A [batch, time, features] input is used as [batch·time, features].
        GradientCheck.check(Linear(3, 2, using: &rng), input: randomTensor(Shape(2, 3, 3), seed: 4))
    }

    @Test(arguments: Activation.allCases)
    func activationLayers(activation: Activation) {
        // Inputs kept away from ReLU's kink and inside log's domain.
        let x = Tensor(shape: Shape(3, 7), generator: { i in
            let v = Float(i) * 0.37 - 3.1
            return activation == .log ? abs(v) + 0.5 : (abs(v) < 0.05 ? 0.5 : v)
        })
        GradientCheck.check(ActivationLayer(activation), input: x)
    }

    @Test func layerNorm() {
        let norm = LayerNorm(6)
        var rng = RandomGenerator(seed: 5)
        // Non-trivial gain and bias so that every term of the backward pass matters.
        var gamma = norm.gamma.value, beta = norm.beta.value  // workspace views: writes reach the layer
        rng.fillUniform(&gamma, 0.5, 1.5)
        rng.fillUniform(&beta, -0.5, 0.5)
        GradientCheck.check(norm, input: randomTensor(Shape(4, 6), seed: 6, low: -2, high: 2))
        GradientCheck.check(norm, input: randomTensor(Shape(2, 3, 6), seed: 7))
    }

    @Test func sequentialMLP() {
        var rng = RandomGenerator(seed: 8)
        let mlp = Sequential.mlp([4, 8, 8, 3], activation: .tanh, using: &rng)
        mlp.computesInputGradient = true
        GradientCheck.check(mlp, input: randomTensor(Shape(5, 4), seed: 9))
    }

    @Test func backwardParametersOnlyMatchesFullBackward() {
        var rng = RandomGenerator(seed: 10)
        let mlp = Sequential.mlp([4, 6, 2], using: &rng)
        let store = ParameterStore(mlp)
        let x = randomTensor(Shape(3, 4), seed: 11), dy = randomTensor(Shape(3, 2), seed: 12)
        _ = mlp.forward(x)
        _ = mlp.backward(dy)
        let full = store.gradients.clone()
        store.zeroGradients()
        _ = mlp.forward(x)
        #expect(mlp.backwardFromLoss(dy) == nil)
        #expect(store.gradients == full)
    }

    @Test func dropoutScalesSurvivorsAndRoutesGradientsThroughTheSameMask() {
        let dropout = Dropout(rate: 0.25, seed: 3)
        let x = Tensor(shape: Shape(200, 50), repeating: 2)
        let y = dropout.forward(x).clone()
        let kept = y.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 2 / 0.75) < 1e-6 })
        let keptFraction = Double(kept.count) / Double(y.count)
        #expect(abs(keptFraction - 0.75) < 0.02)
        let dy = randomTensor(y.shape, seed: 4)
        let dx = dropout.backward(dy)
        for i in 0..<y.count {
            #expect(dx[flat: i] == (y[flat: i] == 0 ? 0 : dy[flat: i] * (1 / Float(0.75))))
        }
        dropout.isTraining = false
        #expect(dropout.forward(x) == x && dropout.backward(dy) == dy)
    }

    @Test func embeddingGatherAndScatterWithPadding() {
        var rng = RandomGenerator(seed: 13)
        let embedding = Embedding(6, 3, paddingIndex: 0, using: &rng)
        #expect(embedding.weight.value[row: 0].scalars == [0, 0, 0])
        let indices: [Int32] = [2, 0, 5, 2]
        let y = embedding.forward(indices, shape: Shape(2, 2))
        #expect(y.shape == Shape(2, 2, 3))
        #expect(y[rows: 0..<1].reshaped(Shape(2, 3))[row: 0].scalars == embedding.weight.value[row: 2].scalars)
        let dy = randomTensor(Shape(2, 2, 3), seed: 14)
        embedding.backward(dy)
        let g = embedding.weight.gradient
        for c in 0..<3 {
            #expect(g[0, c] == 0)  // padding row: no gradient
            #expect(abs(g[2, c] - (dy[flat: c] + dy[flat: 9 + c])) < 1e-6)  // index 2 used twice
            #expect(g[5, c] == dy[flat: 6 + c] && g[1, c] == 0)
        }
    }

    /// The tied output's gradients reach the embedding rows it scores with and its bias; the
    /// table's other rows (here the padding row) get none.
    @Test func tiedOutputScoresByTheEmbeddingAndTrainsIt() {
        var rng = RandomGenerator(seed: 15)
        let embedding = Embedding(6, 4, paddingIndex: 5, using: &rng)
        let head = TiedOutput(embedding, rows: 5)
        var bias = head.bias.value  // a workspace tensor: the draw lands in the parameter
        rng.fillNormal(&bias)
        /// The head with the table it reads, so the check perturbs both.
        final class Probe: Layer {
            let head: TiedOutput
            var isTraining = true
            init(_ head: TiedOutput) { self.head = head }
            var namedParameters: [(name: String, parameter: Parameter)] { [("embedding", head.embedding.weight), ("bias", head.bias)] }
            func forward(_ x: Tensor) -> Tensor { head.forward(x) }
            func backward(_ gradOutput: Tensor) -> Tensor { head.backward(gradOutput) }
        }
        let x = randomTensor(Shape(3, 4), seed: 16)
        let y = head.forward(x)
        #expect(y.shape == Shape(3, 5))
        var expected: Float = head.bias.value[flat: 2]
        for j in 0..<4 { expected += x[1, j] * embedding.weight.value[2, j] }
        #expect(abs(y[1, 2] - expected) < 1e-5)
        GradientCheck.check(Probe(head), input: x)
        for j in 0..<4 { #expect(embedding.weight.gradient[5, j] == 0) }
    }
}
