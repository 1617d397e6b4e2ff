import Foundation
import DRLNN
@testable import DRLTensor
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

extension RecurrentTests {
    /// A batch large enough for each time step to be split over the threads (rows of the batch
    /// forward and backward, gate rows for the parameter gradients) gives, row by row, the bits of
    /// the same sequences run one at a time (within rounding on kernels without small-matrix calls), outputs and input gradients alike; the parameter
    /// gradients, summed over the batch in another order, agree within rounding.
    @Test(arguments: ["GRU", "LSTM"])
    func recurrentLayerOverABatchMatchesItsSequencesOneAtATime(kind: String) {
        var rng = RandomGenerator(seed: 35)
        let layer: Layer, parameters: [Parameter]
        if kind == "GRU" {
            let gru = GRU(inputSize: 8, hiddenSize: 32, using: &rng)
            (layer, parameters) = (gru, [gru.weightIH, gru.weightHH, gru.biasIH, gru.biasHH])
        } else {
            let lstm = LSTM(inputSize: 8, hiddenSize: 32, using: &rng)
            (layer, parameters) = (lstm, [lstm.weightIH, lstm.weightHH, lstm.biasIH, lstm.biasHH])
        }
        // The rows keep their bits where OpenBLAS's AVX-512 small-matrix kernels compute the step
        // products; other kernels (AVX2 ones) round a one-row product differently from a block's
        // rows, so there the rows agree within rounding.
        let bitwise = OpenBLASKernel.hasSmallMatrixKernels
        func agree(_ a: [Float], _ b: [Float]) -> Bool {
            bitwise ? a == b : zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
        }
        let store = ParameterStore(layer)
        let (batch, time) = (80, 6)
        let x = randomTensor(Shape(batch, time, 8), seed: 36), dy = randomTensor(Shape(batch, time, 32), seed: 37)
        store.zeroGradients()
        let y = layer.forward(x).clone(), dx = layer.backward(dy).clone()
        let batchGradients = parameters.map { $0.gradient.clone() }
        store.zeroGradients()
        for i in 0..<batch {
            let yi = layer.forward(x[rows: i..<(i + 1)]).clone(), dxi = layer.backward(dy[rows: i..<(i + 1)])
            let sameOutput = agree(yi.scalars, y[rows: i..<(i + 1)].scalars)
            let sameInputGradient = agree(dxi.scalars, dx[rows: i..<(i + 1)].scalars)
            #expect(sameOutput && sameInputGradient, "\(kind) sequence \(i): output \(sameOutput ? "" : "not ")equal, input gradient \(sameInputGradient ? "" : "not ")equal (bitwise: \(bitwise))")
        }
        for (p, expected) in zip(parameters, batchGradients) {
            let scale = expected.scalars.map { abs($0) }.max() ?? 0
            let error = zip(p.gradient.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(scale > 0 && error <= 1e-5 * scale, "\(kind) \(p.name): \(error) against gradients up to \(scale)")
        }
    }

    @Test func lstmGradientsMatchFiniteDifferences() {
        var rng = RandomGenerator(seed: 41)
        GradientCheck.check(LSTM(inputSize: 3, hiddenSize: 4, using: &rng), input: randomTensor(Shape(2, 3, 3), seed: 42, low: -2, high: 2))
    }

    @Test(arguments: [Conv1d.Padding.causal, .valid])
    func conv1dGradientsMatchFiniteDifferences(padding: Conv1d.Padding) {
        var rng = RandomGenerator(seed: 43)
        let conv = Conv1d(3, 2, kernelSize: 3, dilation: 2, padding: padding, using: &rng)
        GradientCheck.check(conv, input: randomTensor(Shape(2, 6, 3), seed: 44))
    }

    @Test func causalConvolutionSeesNoFutureInput() {
        var rng = RandomGenerator(seed: 45)
        let conv = Conv1d(2, 3, kernelSize: 2, dilation: 3, padding: .causal, using: &rng)
        let x = randomTensor(Shape(1, 8, 2), seed: 46)
        let y = conv.forward(x).clone()
        #expect(y.shape == Shape(1, 8, 3))
        var later = x.clone()
        later[0, 5, 0] += 4
        let y2 = conv.forward(later)
        for t in 0..<5 { for c in 0..<3 { #expect(y2[0, t, c] == y[0, t, c]) } }
    }

    @Test func positionalEncodings() {
        var rng = RandomGenerator(seed: 47)
        GradientCheck.check(LearnedPositionalEncoding(maxLength: 6, dimension: 3, using: &rng), input: randomTensor(Shape(2, 4, 3), seed: 48))
        let sinusoidal = SinusoidalPositionalEncoding(maxLength: 10, dimension: 4)
        #expect(sinusoidal.table[0, 0] == 0 && sinusoidal.table[0, 1] == 1)
        #expect(abs(sinusoidal.table[3, 2] - Float(sin(3 / 100.0))) < 1e-6)
        GradientCheck.check(sinusoidal, input: randomTensor(Shape(2, 5, 4), seed: 49))
    }
}
