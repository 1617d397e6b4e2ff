import Foundation
import DRLNN
import DRLTensor
import Testing

@Suite struct RecurrentTests {
    @Test func gruGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 31)
        let gru = GRU(inputSize: 3, hiddenSize: 4, using: &rng)
        GradientCheck.check(gru, input: randomTensor(Shape(2, 3, 3), seed: 32, low: -2, high: 2))
    }

    @Test func gruStepMatchesTheEquationsWrittenOut() {
        var rng = RandomGenerator(seed: 33)
        let gru = GRU(inputSize: 2, hiddenSize: 3, using: &rng)
        let x = randomTensor(Shape(1, 2, 2), seed: 34)
        let y = gru.forward(x)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
        var h = [Double](repeating: 0, count: 3)
        let wi = gru.weightIH.value, wh = gru.weightHH.value, bi = gru.biasIH.value, bh = gru.biasHH.value
        for t in 0..<2 {
            func gate(_ g: Int, _ j: Int) -> (Double, Double) {
                let row = g * 3 + j
                let fromInput = Double(bi[flat: row]) + (0..<2).map { Double(wi[row, $0]) * Double(x[0, t, $0]) }.reduce(0, +)
                let fromState = Double(bh[flat: row]) + (0..<3).map { Double(wh[row, $0]) * h[$0] }.reduce(0, +)
                return (fromInput, fromState)
            }
            var next = h
            for j in 0..<3 {
                let (ri, rh) = gate(0, j), (zi, zh) = gate(1, j), (ni, nh) = gate(2, j)
                let r = sigmoid(ri + rh), z = sigmoid(zi + zh), n = tanh(ni + r * nh)
                next[j] = (1 - z) * n + z * h[j]
            }
            h = next
            for j in 0..<3 { #expect(abs(Double(y[0, t, j]) - h[j]) < 1e-6) }
        }
    }
}
