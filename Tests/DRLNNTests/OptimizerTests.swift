import DRLNN
import DRLTensor
import Foundation
import Testing

/// Two parameters with known values and gradients, gathered in a store.
func twoParameterStore() -> (ParameterStore, Parameter, Parameter) {
    let a = Parameter("a", shape: Shape(2, 3)), b = Parameter("b", shape: Shape(4))
    var av = a.value, bv = b.value
    av.copy(from: randomTensor(Shape(2, 3), seed: 1))
    bv.copy(from: randomTensor(Shape(4), seed: 2))
    return (ParameterStore([("a", a), ("b", b)]), a, b)
}

func setGradients(_ store: ParameterStore, seed: UInt64) {
    var g = store.gradients
    g.copy(from: randomTensor(Shape(store.count), seed: seed))
}

@Suite struct ParameterStoreTests {
    @Test func parametersBecomeViewsIntoTheFlatBuffers() {
        let (store, a, b) = twoParameterStore()
        #expect(store.count == 10 && store.ranges == [0..<6, 6..<10])
        #expect(store.values[rows: 0..<6].scalars == a.value.scalars && store.values[rows: 6..<10].scalars == b.value.scalars)
        var v = store.values
        v[flat: 7] = 42
        #expect(b.value[flat: 1] == 42)
        var g = a.gradient
        g[1, 2] = 3
        #expect(store.gradients[flat: 5] == 3)
        store.zeroGradients()
        #expect(store.gradients.scalars.allSatisfy { $0 == 0 })
    }

    @Test func clippingScalesToTheMaximumNormAndSkipsFrozenParameters() {
        let (store, a, _) = twoParameterStore()
        setGradients(store, seed: 3)
        let norm = store.gradientNorm()
        let expected = store.gradients.scalars.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        #expect(abs(Double(norm) - expected) < 1e-5)
        #expect(store.clipGradientNorm(norm / 2) == norm)
        #expect(abs(store.gradientNorm() - norm / 2) < 1e-4)
        a.isFrozen = true
        let frozenGradient = a.gradient.clone()
        store.clipGradientNorm(1e-3)
        #expect(a.gradient == frozenGradient)
    }

    @Test func polyakAndHardTargetUpdates() {
        let (online, _, _) = twoParameterStore()
        let (target, _, _) = twoParameterStore()
        var tv = target.values
        tv.fill(with: 1)
        let before = online.values.clone()
        target.polyakUpdate(from: online, tau: 0.25)
        for i in 0..<online.count { #expect(abs(target.values[flat: i] - (0.75 + 0.25 * before[flat: i])) < 1e-6) }
        target.copyValues(from: online)
        #expect(target.values == online.values)
    }
}

@Suite struct OptimizerTests {
    /// PyTorch's Adam/AdamW written out in Double, step by step.
    func referenceAdam(_ w0: [Float], _ grads: [[Float]], lr: Double, b1: Double, b2: Double, eps: Double, wd: Double,
                       decoupled: Bool) -> [Double] {
        var w = w0.map(Double.init), m = [Double](repeating: 0, count: w.count), v = m
        for (t, g) in grads.enumerated() {
            for i in w.indices {
                var gi = Double(g[i])
                if decoupled { w[i] *= 1 - lr * wd } else { gi += wd * w[i] }
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                let mhat = m[i] / (1 - pow(b1, Double(t + 1))), vhat = v[i] / (1 - pow(b2, Double(t + 1)))
                w[i] -= lr * mhat / (vhat.squareRoot() + eps)
            }
        }
        return w
    }

    @Test(arguments: [false, true])
    func adamMatchesReference(decoupled: Bool) throws {
        let (store, _, _) = twoParameterStore()
        let w0 = store.values.scalars
        let optimizer = Adam(store, learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: decoupled)
        var grads: [[Float]] = []
        for step in 0..<5 {
            setGradients(store, seed: 10 + UInt64(step))
            grads.append(store.gradients.scalars)
            try optimizer.update()
        }
        let expected = referenceAdam(w0, grads, lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1, decoupled: decoupled)
        for i in 0..<store.count { #expect(abs(Double(store.values[flat: i]) - expected[i]) < 1e-5, "weight \(i)") }
        #expect(optimizer.step == 5)
    }

    @Test func sgdWithMomentumAndNesterovMatchesReference() throws {
        for nesterov in [false, true] {
            let (store, _, _) = twoParameterStore()
            var w = store.values.scalars.map(Double.init), buf = [Double](repeating: 0, count: store.count)
            let optimizer = SGD(store, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: nesterov)
            for step in 0..<4 {
                setGradients(store, seed: 20 + UInt64(step))
                let g = store.gradients.scalars
                try optimizer.update()
                for i in w.indices {
                    let d = Double(g[i]) + 0.01 * w[i]
                    buf[i] = step == 0 ? d : 0.9 * buf[i] + d
                    w[i] -= 0.1 * (nesterov ? d + 0.9 * buf[i] : buf[i])
                }
            }
            for i in w.indices { #expect(abs(Double(store.values[flat: i]) - w[i]) < 1e-5) }
        }
    }

    @Test func frozenParametersAreNotUpdated() throws {
        let (store, a, b) = twoParameterStore()
        a.isFrozen = true
        let frozen = a.value.clone(), trainable = b.value.clone()
        setGradients(store, seed: 30)
        try Adam(store).update()
        #expect(a.value == frozen && b.value != trainable)
    }

    @Test func aNonFiniteGradientIsReportedAndNotTrainedOn() throws {
        let (store, _, b) = twoParameterStore()
        setGradients(store, seed: 40)
        var g = b.gradient
        g[flat: 2] = .nan
        let before = store.values.clone()
        for optimizer in [Adam(store) as Optimizer, SGD(store, learningRate: 0.1, momentum: 0.9)] {
            let error = #expect(throws: NonFiniteError.self) { try optimizer.update() }
            #expect(error?.parameter == "b" && error?.element == 2 && error?.quantity == "gradient")
            #expect(error?.description.contains("'b' at element 2") == true)
            #expect(store.values == before && optimizer.step == 0)
        }
        g[flat: 2] = .infinity
        #expect(store.firstNonFinite()?.value == .infinity)
        g[flat: 2] = 0
        #expect(store.firstNonFinite() == nil && store.firstNonFinite(inValues: true) == nil)
        try Adam(store).update()
        #expect(store.values != before)
    }

    @Test func learningRateSchedules() {
        #expect(LearningRateSchedule.constant(0.1).learningRate(at: 1000) == 0.1)
        let warmup = LearningRateSchedule.linearWarmup(peak: 1, warmupSteps: 4)
        #expect([0, 1, 3, 4, 10].map { warmup.learningRate(at: $0) } == [0.25, 0.5, 1, 1, 1])
        let cosine = LearningRateSchedule.cosine(peak: 1, minimum: 0.1, warmupSteps: 2, totalSteps: 12)
        #expect(cosine.learningRate(at: 0) == 0.5 && cosine.learningRate(at: 2) == 1)
        #expect(abs(cosine.learningRate(at: 7) - 0.55) < 1e-6)  // halfway through the decay
        #expect(abs(cosine.learningRate(at: 12) - 0.1) < 1e-6 && abs(cosine.learningRate(at: 50) - 0.1) < 1e-6)
        let linear = LearningRateSchedule.linear(start: 2, end: 0, totalSteps: 8)
        #expect([0, 2, 4, 8, 20].map { linear.learningRate(at: $0) } == [2, 1.5, 1, 0, 0])
    }
}

@Suite struct InitializerTests {
    @Test func orthogonalRowsOrColumnsAreOrthonormal() {
        var rng = RandomGenerator(seed: 1)
        for (rows, cols) in [(6, 4), (4, 6), (5, 5)] {
            var w = Tensor(zeros: Shape(rows, cols))
            Initializer.orthogonal(gain: 2).fill(&w, fanIn: cols, fanOut: rows, using: &rng)
            let gram = rows >= cols ? matmul(w, w, transposeA: true) : matmul(w, w, transposeB: true)
            let k = min(rows, cols)
            for i in 0..<k { for j in 0..<k { #expect(abs(gram[i, j] - (i == j ? 4 : 0)) < 1e-4) } }
        }
    }

    @Test func boundsAndVariances() {
        var rng = RandomGenerator(seed: 2)
        var w = Tensor(zeros: Shape(400, 100))
        Initializer.kaimingUniform(a: Float(5).squareRoot()).fill(&w, fanIn: 100, fanOut: 400, using: &rng)
        #expect(w.scalars.allSatisfy { abs($0) <= 0.1 } && w.max() > 0.099)
        Initializer.xavierNormal().fill(&w, fanIn: 100, fanOut: 400, using: &rng)
        let variance = w.scalars.map { Double($0) * Double($0) }.reduce(0, +) / Double(w.count)
        #expect(abs(variance - 2.0 / 500) < 2e-4)
        Initializer.kaimingNormal().fill(&w, fanIn: 100, fanOut: 400, using: &rng)
        let kaimingVariance = w.scalars.map { Double($0) * Double($0) }.reduce(0, +) / Double(w.count)
        #expect(abs(kaimingVariance - 2.0 / 100) < 1e-3)
    }
}
