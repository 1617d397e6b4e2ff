import DRLNN
import DRLTensor
import Foundation
import Testing

/// Central differences of a loss with respect to its prediction, in the same way as GradientCheck.
func checkLossGradient(_ prediction: Tensor, gradient: Tensor, _ loss: (Tensor) -> Float,
                       sourceLocation: SourceLocation = #_sourceLocation) {
    let h: Float = 1e-2
    for i in 0..<prediction.count {
        var plus = prediction.clone(), minus = prediction.clone()
        plus[flat: i] += h
        minus[flat: i] -= h
        let numeric = (Double(loss(plus)) - Double(loss(minus))) / (2 * Double(h))
        GradientCheck.expectClose(gradient[flat: i], numeric, "element \(i)", sourceLocation: sourceLocation)
    }
}

@Suite struct LossTests {
    @Test func mseValueAndGradient() {
        let p = randomTensor(Shape(4, 3), seed: 1), t = randomTensor(Shape(4, 3), seed: 2)
        let loss = MSELoss()
        let value = loss(p, t)
        let expected = zip(p.scalars, t.scalars).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +) / 12
        #expect(abs(Double(value) - expected) < 1e-6)
        let g = loss.gradient.clone()
        checkLossGradient(p, gradient: g) { MSELoss()($0, t) }
    }

    @Test func huberIsQuadraticInsideDeltaAndLinearOutside() {
        let p = Tensor(shape: Shape(4), scalars: [0.5, -0.2, 3, -4]), t = Tensor(zeros: Shape(4))
        let loss = HuberLoss(delta: 1)
        let value = loss(p, t)
        // 0.125, 0.02, 2.5, 3.5 → mean 1.53625
        #expect(abs(value - 1.53625) < 1e-6)
        let expectedGradient: [Float] = [0.5 / 4, -0.2 / 4, 1.0 / 4, -1.0 / 4]
        #expect(loss.gradient.scalars == expectedGradient)
        let q = randomTensor(Shape(3, 5), seed: 3, low: -3, high: 3)
        let weights = randomTensor(Shape(15), seed: 4, low: 0.5, high: 2)
        _ = loss(q, Tensor(zeros: q.shape), weights: weights)
        checkLossGradient(q, gradient: loss.gradient.clone()) { HuberLoss(delta: 1)($0, Tensor(zeros: q.shape), weights: weights) }
    }

    @Test func softmaxCrossEntropyMatchesDefinitionAndIsStable() {
        let logits = randomTensor(Shape(5, 7), seed: 5, low: -3, high: 3)
        let targets: [Int32] = [0, 6, 3, 3, 1]
        let weights = Tensor(shape: Shape(5), scalars: [1, 0.5, 2, 1, 0])
        let loss = SoftmaxCrossEntropyLoss()
        let value = loss(logits, targets: targets, weights: weights)
        var expected = 0.0
        for r in 0..<5 {
            let row = (0..<7).map { Double(logits[r, $0]) }
            let lse = log(row.map(exp).reduce(0, +))
            expected += Double(weights[flat: r]) * (lse - row[Int(targets[r])])
        }
        #expect(abs(Double(value) - expected / 5) < 1e-5)
        checkLossGradient(logits, gradient: loss.gradient.clone()) {
            SoftmaxCrossEntropyLoss()($0, targets: targets, weights: weights)
        }
        // Huge logits: the loss stays finite and exact (log-sum-exp, not log of a probability).
        let extreme = Tensor(shape: Shape(1, 3), scalars: [1000, -1000, 0])
        #expect(loss(extreme, targets: [1]) == 2000)
        #expect(loss(extreme, targets: [0]) == 0)
    }

    @Test func binaryCrossEntropyWithLogits() {
        let z = randomTensor(Shape(3, 4), seed: 6, low: -4, high: 4)
        let t = Tensor(shape: z.shape, generator: { Float($0 % 2) })
        let loss = BinaryCrossEntropyWithLogitsLoss()
        let value = loss(z, t)
        var expected = 0.0
        for i in 0..<12 {
            let s = 1 / (1 + exp(-Double(z[flat: i])))
            expected -= Double(t[flat: i]) * log(s) + (1 - Double(t[flat: i])) * log(1 - s)
        }
        #expect(abs(Double(value) - expected / 12) < 1e-5)
        checkLossGradient(z, gradient: loss.gradient.clone()) { BinaryCrossEntropyWithLogitsLoss()($0, t) }
        let saturated = loss(Tensor(shape: Shape(2), scalars: [200, -200]), Tensor(shape: Shape(2), scalars: [0, 1]))
        #expect(saturated == 200)
    }

    @Test func categoricalEntropy() {
        let logits = randomTensor(Shape(3, 5), seed: 7, low: -2, high: 2)
        let entropy = CategoricalEntropy()
        let value = entropy(logits)
        var expected = 0.0
        for r in 0..<3 {
            let e = (0..<5).map { exp(Double(logits[r, $0])) }
            let z = e.reduce(0, +)
            expected -= e.map { ($0 / z) * log($0 / z) }.reduce(0, +)
        }
        #expect(abs(Double(value) - expected / 3) < 1e-5)
        checkLossGradient(logits, gradient: entropy.gradient.clone()) { CategoricalEntropy()($0) }
        // Uniform logits: maximal entropy log(5); masked (-inf) actions contribute nothing.
        #expect(abs(entropy(Tensor(zeros: Shape(1, 5))) - Float(log(5.0))) < 1e-6)
        let masked = Tensor(shape: Shape(1, 3), scalars: [0, 0, -.infinity])
        #expect(abs(entropy(masked) - Float(log(2.0))) < 1e-6)
        #expect(entropy.gradient.scalars.allSatisfy { $0.isFinite })
    }

    @Test func softmaxExpectation() {
        let logits = randomTensor(Shape(3, 5), seed: 8, low: -2, high: 2)
        let shared = randomTensor(Shape(5), seed: 9), perRow = randomTensor(Shape(3, 5), seed: 10)
        let weights = Tensor(shape: Shape(3), scalars: [0.5, 0, 2])
        for (values, w) in [(shared, nil), (perRow, nil), (shared, weights), (perRow, weights)] as [(Tensor, Tensor?)] {
            let expectation = SoftmaxExpectation()
            let value = expectation(logits, values: values, weights: w)
            var expected = 0.0
            for r in 0..<3 {
                let e = (0..<5).map { exp(Double(logits[r, $0])) }
                let z = e.reduce(0, +)
                let v = (0..<5).map { Double(values.count == 5 ? values[flat: $0] : values[r, $0]) }
                expected += Double(w?[flat: r] ?? 1) * zip(e, v).map { $0 / z * $1 }.reduce(0, +)
            }
            #expect(abs(Double(value) - expected / 3) < 1e-5, "values \(values.shape), weights \(w != nil)")
            checkLossGradient(logits, gradient: expectation.gradient.clone()) { SoftmaxExpectation()($0, values: values, weights: w) }
        }
        // Equal values: the expectation is that value whatever the policy, so the gradient is 0.
        let flat = SoftmaxExpectation()
        #expect(abs(flat(logits, values: Tensor(shape: Shape(5), scalars: [Float](repeating: 0.7, count: 5))) - 0.7) < 1e-6)
        #expect(flat.gradient.scalars.allSatisfy { abs($0) < 1e-7 })
    }
}
