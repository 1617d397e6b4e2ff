import DRLNN
import DRLTensor
import Testing

@Suite struct SampledSoftmaxLossTests {
    static func head(items: Int, dimension: Int, seed: UInt64) -> Linear {
        var rng = RandomGenerator(seed: seed)
        let layer = Linear(dimension, items, using: &rng)
        var bias = layer.bias!.value
        rng.fillUniform(&bias, -1, 1)  // a bias that matters
        return layer
    }

    /// With a uniform proposal and every item drawn once, every logit's correction is the same
    /// constant and the target's own column replaces its masked hit: the sampled loss is the full
    /// softmax cross-entropy, and so are the gradients of the inputs, the weight and the bias.
    @Test func everyItemOnceUnderAUniformProposalIsTheFullSoftmax() {
        let (items, dimension, positions) = (37, 8, 11)
        var rng = RandomGenerator(seed: 1)
        let inputs = Tensor.uniform(Shape(positions, dimension), -1, 1, using: &rng)
        let targets = (0..<positions).map { _ in Int32(rng.nextIndex(below: items)) }
        let weights = Tensor(shape: Shape(positions), generator: { $0 % 4 == 0 ? 0 : Float(1 + $0 % 3) })

        let full = Self.head(items: items, dimension: dimension, seed: 2), crossEntropy = SoftmaxCrossEntropyLoss()
        let fullLoss = crossEntropy(full.forward(inputs), targets: targets, weights: weights)
        let fullInputGradient = full.backward(crossEntropy.gradient).clone()

        let sampledHead = Self.head(items: items, dimension: dimension, seed: 2)
        let sampled = SampledSoftmaxLoss(weight: sampledHead.weight, rows: items, bias: sampledHead.bias,
                                         proposal: [Float](repeating: 3, count: items))
        let loss = sampled(inputs, targets: targets, weights: weights, negatives: (0..<items).map(Int32.init).shuffled(using: &rng))
        #expect(abs(loss - fullLoss) < 1e-5 * max(1, abs(fullLoss)), "sampled \(loss), full \(fullLoss)")
        for (name, a, b) in [("inputs", sampled.inputGradient, fullInputGradient), ("weight", sampledHead.weight.gradient, full.weight.gradient),
                             ("bias", sampledHead.bias!.gradient, full.bias!.gradient)] {
            let largest = (0..<a.count).map { abs(a[flat: $0] - b[flat: $0]) }.max()!
            #expect(largest < 1e-5, "\(name): largest difference \(largest)")
        }
    }

    /// Central differences of the sampled loss for fixed negatives (repeated draws and an
    /// accidental hit among them), against its gradients of the inputs, weight and bias.
    @Test func gradientsMatchFiniteDifferences() {
        let (items, dimension, positions) = (13, 5, 6)
        var rng = RandomGenerator(seed: 3)
        let inputs = Tensor.uniform(Shape(positions, dimension), -1, 1, using: &rng)
        let targets: [Int32] = [4, 0, 12, 4, 7, 1], negatives: [Int32] = [4, 9, 9, 2, 11, 0, 5]
        let weights = Tensor(shape: Shape(positions), scalars: [1, 2, 0.5, 1, 0, 1.5])
        let proposal = (0..<items).map { Float(1 + $0 % 5) }
        let head = Self.head(items: items, dimension: dimension, seed: 4)
        let loss = SampledSoftmaxLoss(weight: head.weight, rows: items, bias: head.bias, proposal: proposal)
        func value(_ x: Tensor) -> Double { Double(loss(x, targets: targets, weights: weights, negatives: negatives)) }
        for parameter in [head.weight, head.bias!] { var g = parameter.gradient; g.fill(with: 0) }
        _ = value(inputs)
        let dx = loss.inputGradient.clone(), dW = head.weight.gradient.clone(), db = head.bias!.gradient.clone()
        let h: Float = 1e-2
        for i in 0..<inputs.count {
            var plus = inputs.clone(), minus = inputs.clone()
            plus[flat: i] += h
            minus[flat: i] -= h
            GradientCheck.expectClose(dx[flat: i], (value(plus) - value(minus)) / (2 * Double(h)), "input \(i)")
        }
        for (name, parameter, analytic) in [("weight", head.weight, dW), ("bias", head.bias!, db)] {
            for i in 0..<parameter.value.count {
                var v = parameter.value
                let original = v[flat: i]
                v[flat: i] = original + h
                let plus = value(inputs)
                v[flat: i] = original - h
                let minus = value(inputs)
                v[flat: i] = original
                GradientCheck.expectClose(analytic[flat: i], (plus - minus) / (2 * Double(h)), "\(name) \(i)")
            }
        }
    }
}

@Suite struct AliasSamplerTests {
    /// Over 400,000 draws each index's frequency is its probability within 4.5 standard errors
    /// (a zero weight is never drawn).
    @Test func drawsInProportionToTheWeights() {
        let weights: [Float] = [5, 0, 1, 0.25, 12, 3, 3, 0.01, 7]
        let sampler = AliasSampler(weights: weights)
        var rng = RandomGenerator(seed: 5), counts = [Int](repeating: 0, count: weights.count)
        let draws = 400_000
        for _ in 0..<draws { counts[Int(sampler.draw(using: &rng))] += 1 }
        let total = weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            let p = Double(w / total), frequency = Double(counts[i]) / Double(draws)
            #expect(abs(frequency - p) <= 4.5 * (p * (1 - p) / Double(draws)).squareRoot() + 1e-9, "index \(i): \(frequency) for \(p)")
        }
        #expect(counts[1] == 0 && counts[3] > 0)
    }
}
