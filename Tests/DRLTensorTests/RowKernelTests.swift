import CDRLKernels
import DRLTensor
import Foundation
import Testing

func referenceSoftmax(_ row: [Float]) -> [Double] {
    let m = row.map(Double.init).max()!
    if m == -.infinity { return row.map { _ in 0 } }
    let e = row.map { exp(Double($0) - m) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
}

func referenceLogSoftmax(_ row: [Float]) -> [Double] {
    let m = row.map(Double.init).max()!
    if m == -.infinity { return row.map { _ in -.infinity } }
    let lse = m + log(row.map { exp(Double($0) - m) }.reduce(0, +))
    return row.map { Double($0) - lse }
}

func rows(_ t: Tensor) -> [[Float]] {
    let (r, c) = t.shape.matrix
    let s = t.scalars
    return (0..<r).map { Array(s[($0 * c)..<($0 * c + c)]) }
}

@Suite struct SoftmaxTests {
    @Test(arguments: [1, 3, 16, 17, 33, 257, 1682])
    func softmaxAndLogSoftmaxMatchReference(cols: Int) {
        let x = randomTensor(Shape(7, cols), seed: UInt64(cols), low: -20, high: 20)
        let y = softmax(x), ly = logSoftmax(x)
        for (r, row) in rows(x).enumerated() {
            #expect(maxScaledError(rows(y)[r], referenceSoftmax(row)) < 1e-6, "softmax row \(r), \(cols) columns")
            #expect(maxScaledError(rows(ly)[r], referenceLogSoftmax(row)) < 2e-6, "logSoftmax row \(r)")
        }
        var inPlace = x
        softmaxInPlace(&inPlace)
        #expect(inPlace == y)
    }

    @Test func maskedEntriesGetExactlyZeroProbability() {
        let inf = Float.infinity
        let x = Tensor(shape: Shape(3, 5), scalars: [1, -inf, 2, -inf, 3,
                                                     -inf, -inf, -inf, -inf, -inf,
                                                     -inf, 0, -inf, -inf, -inf])
        let y = softmax(x), ly = logSoftmax(x)
        let expected = referenceSoftmax([1, 2, 3])
        #expect(y[0, 1] == 0 && y[0, 3] == 0)
        expectClose(y[0, 0], expected[0], rel: 1e-6)
        expectClose(y[0, 4], expected[2], rel: 1e-6)
        // A fully masked row: zero probabilities and -inf log-probabilities, never NaN.
        #expect(rows(y)[1] == [0, 0, 0, 0, 0])
        #expect(rows(ly)[1].allSatisfy { $0 == -inf })
        #expect(rows(y)[2] == [0, 1, 0, 0, 0])
        #expect(ly[2, 1] == 0 && ly[2, 0] == -inf)
    }

    @Test func largeMagnitudesDoNotOverflow() {
        let x = Tensor(shape: Shape(3, 3), scalars: [1e30, 0, -1e30,
                                                     3e38, 3e38, 3e38,
                                                     -3e38, -3e38, 1])
        let y = softmax(x), ly = logSoftmax(x)
        #expect(rows(y)[0] == [1, 0, 0])
        for v in rows(y)[1] { expectClose(v, 1.0 / 3.0, rel: 1e-6) }
        #expect(rows(y)[2] == [0, 0, 1])
        #expect(ly[0, 0] == 0 && ly[0, 1] == -1e30)
        expectClose(ly[1, 2], -log(3.0), rel: 1e-6)
        #expect(ly[2, 2] == 0 && ly[2, 0] == -3e38 - 1)
    }

    @Test func nanOrPlusInfinityPoisonsOnlyItsOwnRow() {
        // +inf - max is undefined, so such a row is NaN too (as in PyTorch).
        let x = Tensor(shape: Shape(3, 4), scalars: [1, .nan, 2, 3, 1, 2, 3, 4, 0, .infinity, 1, 2])
        let y = softmax(x), ly = logSoftmax(x)
        for r in [0, 2] { #expect(rows(y)[r].allSatisfy { $0.isNaN } && rows(ly)[r].allSatisfy { $0.isNaN }, "row \(r)") }
        #expect(maxScaledError(rows(y)[1], referenceSoftmax([1, 2, 3, 4])) < 1e-6)
        #expect(maxScaledError(rows(ly)[1], referenceLogSoftmax([1, 2, 3, 4])) < 1e-6)
    }

    @Test func softmaxBackwardMatchesJacobianProductAndFiniteDifferences() {
        let x = randomTensor(Shape(5, 19), seed: 3, low: -3, high: 3)
        let dy = randomTensor(x.shape, seed: 4)
        let y = softmax(x), ly = logSoftmax(x)
        var dx = Tensor(zeros: x.shape), dlx = Tensor(zeros: x.shape)
        softmaxBackward(output: y, gradOutput: dy, into: &dx)
        logSoftmaxBackward(output: ly, gradOutput: dy, into: &dlx)
        for r in 0..<5 {
            let p = referenceSoftmax(rows(x)[r]), g = rows(dy)[r].map(Double.init)
            let inner = zip(p, g).map(*).reduce(0, +)
            let sumG = g.reduce(0, +)
            #expect(maxScaledError(rows(dx)[r], zip(p, g).map { $0 * ($1 - inner) }) < 1e-6)
            #expect(maxScaledError(rows(dlx)[r], zip(p, g).map { $1 - $0 * sumG }) < 1e-6)
        }
        // Finite differences of L = Σ dy ⊙ softmax(x) and Σ dy ⊙ logSoftmax(x).
        let h: Float = 1e-2
        for i in Swift.stride(from: 0, to: x.count, by: 7) {
            var plus = x, minus = x
            plus[flat: i] += h
            minus[flat: i] -= h
            let numeric = Double(dot(dy, softmax(plus)) - dot(dy, softmax(minus))) / (2 * Double(h))
            let numericLog = Double(dot(dy, logSoftmax(plus)) - dot(dy, logSoftmax(minus))) / (2 * Double(h))
            #expect(Swift.abs(Double(dx[flat: i]) - numeric) < 1e-3, "softmax element \(i)")
            #expect(Swift.abs(Double(dlx[flat: i]) - numericLog) < 2e-3, "logSoftmax element \(i)")
        }
    }

    @Test func splittingRowsAcrossThreadsGivesIdenticalResults() {
        // 4096 rows are split across threads; each row must equal the same row computed alone.
        let x = randomTensor(Shape(4096, 40), seed: 9, low: -5, high: 5)
        let y = softmax(x)
        for r in [0, 1, 2047, 2048, 4095] { #expect(softmax(x[rows: r..<(r + 1)]).scalars == y[row: r].scalars) }
    }
}

@Suite struct LayerNormTests {
    /// On several threads the backward pass takes dx by rows and the parameter gradients by
    /// columns: the same bits as the single pass over all rows, for frozen gamma or beta too.
    /// (The engine runs one thread per core, so this holds the split on any machine with two cores
    /// or more, CI's included; on one core both sides are the single pass.)
    @Test(arguments: [40, 64, 300])
    func backwardOnThreadsGivesTheBitsOfOnePass(cols: Int) {
        let rowsCount = 3000
        let x = randomTensor(Shape(rowsCount, cols), seed: 21, low: -2, high: 2)
        let gamma = randomTensor(Shape(cols), seed: 22, low: 0.5, high: 1.5)
        let dy = randomTensor(Shape(rowsCount, cols), seed: 23)
        var y = Tensor(zeros: x.shape), mean = Tensor(zeros: Shape(rowsCount)), rstd = Tensor(zeros: Shape(rowsCount))
        layerNorm(x, gamma: gamma, into: &y, mean: &mean, rstd: &rstd)
        for (withGamma, withBeta) in [(true, true), (false, true), (true, false)] {
            let dGamma0 = randomTensor(Shape(cols), seed: 24), dBeta0 = randomTensor(Shape(cols), seed: 25)
            var dx = Tensor(zeros: x.shape), dGamma = dGamma0, dBeta = dBeta0
            layerNormBackward(input: x, gamma: gamma, mean: mean, rstd: rstd, gradOutput: dy, into: &dx,
                              gammaGradient: &dGamma, betaGradient: &dBeta, accumulateGamma: withGamma, accumulateBeta: withBeta)
            var onePassDx = [Float](repeating: 0, count: x.count), onePassGamma = dGamma0.scalars, onePassBeta = dBeta0.scalars
            onePassGamma.withUnsafeMutableBufferPointer { g in
                onePassBeta.withUnsafeMutableBufferPointer { b in
                    drl_layernorm_backward_rows(x.scalars, gamma.scalars, dy.scalars, mean.scalars, rstd.scalars, &onePassDx,
                                                withGamma ? g.baseAddress : nil, withBeta ? b.baseAddress : nil, rowsCount, cols)
                }
            }
            #expect(dx.scalars == onePassDx, "gamma \(withGamma) beta \(withBeta)")
            #expect(dGamma.scalars == onePassGamma && dBeta.scalars == onePassBeta, "gamma \(withGamma) beta \(withBeta)")
        }
    }

    @Test(arguments: [1, 7, 64, 256, 300])
    func layerNormMatchesReference(cols: Int) {
        let rowsCount = 9
        var x = randomTensor(Shape(rowsCount, cols), seed: UInt64(cols), low: -2, high: 2)
        // A row with a large common offset checks the variance for cancellation.
        for c in 0..<cols { x[0, c] += 1e4 }
        let gamma = randomTensor(Shape(cols), seed: 2, low: 0.5, high: 1.5)
        let beta = randomTensor(Shape(cols), seed: 3)
        var y = Tensor(zeros: x.shape), mean = Tensor(zeros: Shape(rowsCount)), rstd = Tensor(zeros: Shape(rowsCount))
        layerNorm(x, gamma: gamma, beta: beta, epsilon: 1e-5, into: &y, mean: &mean, rstd: &rstd)
        var plainMean = Tensor(zeros: Shape(rowsCount)), plainRstd = Tensor(zeros: Shape(rowsCount))
        layerNormStatistics(x, epsilon: 1e-5, mean: &plainMean, rstd: &plainRstd)
        #expect(plainMean == mean && plainRstd == rstd)
        for r in 0..<rowsCount {
            let row = rows(x)[r].map(Double.init)
            let mu = row.reduce(0, +) / Double(cols)
            let variance = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(cols)
            let rs = 1 / (variance + 1e-5).squareRoot()
            expectClose(mean[flat: r], mu, rel: 1e-6, abs: 1e-6)
            expectClose(rstd[flat: r], rs, rel: r == 0 ? 2e-3 : 1e-5, abs: 0)
            let expected = (0..<cols).map { (row[$0] - mu) * rs * Double(gamma[flat: $0]) + Double(beta[flat: $0]) }
            #expect(maxScaledError(rows(y)[r], expected) < (r == 0 ? 5e-3 : 1e-5), "row \(r)")
        }
        // Without gamma and beta: zero mean, unit variance.
        var z = Tensor(zeros: x.shape)
        layerNorm(x, into: &z, mean: &mean, rstd: &rstd)
        if cols > 1 {
            for r in 1..<rowsCount {
                let v = rows(z)[r].map(Double.init)
                #expect(Swift.abs(v.reduce(0, +) / Double(cols)) < 1e-5)
            }
        }
    }
}

@Suite struct ReductionTests {
    @Test(arguments: [0, 1, 17, 1000, 1_000_003])
    func sumMeanMaxAndArgmaxMatchNaiveLoops(n: Int) {
        let x = randomTensor(Shape(n), seed: UInt64(n))
        let v = x.scalars.map(Double.init)
        let total = v.reduce(0, +)
        let scale = v.map(Swift.abs).reduce(0, +)
        #expect(Swift.abs(Double(x.sum()) - total) <= 1e-6 * scale + 1e-6)
        if n > 0 {
            expectClose(x.mean(), total / Double(n), rel: 1e-4, abs: 1e-6 * scale / Double(n) + 1e-6)
            #expect(x.max() == x.scalars.max()!)
            #expect(x.argmax() == x.scalars.firstIndex(of: x.scalars.max()!))
        } else {
            #expect(x.max() == -.infinity && x.argmax() == nil)
        }
    }

    @Test func maxAndArgmaxWithNaNAndTies() {
        let x = Tensor(shape: Shape(5), scalars: [1, 5, .nan, 5, -2])
        #expect(x.max().isNaN)
        #expect(x.argmax() == 1)
        #expect(Tensor(shape: Shape(2), scalars: [.nan, .nan]).argmax() == nil)
        #expect(Tensor(shape: Shape(3), scalars: [-.infinity, -.infinity, -.infinity]).argmax() == 0)
    }

    @Test(arguments: [(3, 1), (1, 5), (13, 17), (200, 70)])
    func rowAndColumnReductionsMatchNaiveLoops(rowsCount: Int, cols: Int) {
        let x = randomTensor(Shape(rowsCount, cols), seed: 5)
        let m = rows(x)
        var sums = Tensor(zeros: Shape(rowsCount)), means = Tensor(zeros: Shape(rowsCount)), maxes = Tensor(zeros: Shape(rowsCount))
        var argmaxes = [Int32](repeating: 0, count: rowsCount)
        rowSums(x, into: &sums)
        rowMeans(x, into: &means)
        rowMaxes(x, into: &maxes)
        rowArgmax(x, into: &argmaxes)
        for r in 0..<rowsCount {
            let row = m[r].map(Double.init)
            expectClose(sums[flat: r], row.reduce(0, +), rel: 1e-5, abs: 1e-5)
            expectClose(means[flat: r], row.reduce(0, +) / Double(cols), rel: 1e-5, abs: 1e-6)
            #expect(maxes[flat: r] == m[r].max()!)
            #expect(Int(argmaxes[r]) == m[r].firstIndex(of: m[r].max()!)!)
        }
        var columns = Tensor(shape: Shape(cols), repeating: 1)
        columnSums(x, into: &columns, accumulate: true)
        var colMeans = Tensor(zeros: Shape(cols))
        columnMeans(x, into: &colMeans)
        for c in 0..<cols {
            let column = (0..<rowsCount).map { Double(m[$0][c]) }
            expectClose(columns[flat: c], 1 + column.reduce(0, +), rel: 1e-5, abs: 1e-5)
            expectClose(colMeans[flat: c], column.reduce(0, +) / Double(rowsCount), rel: 1e-5, abs: 1e-6)
        }
        // A rank-3 tensor reduces over its leading dimensions.
        let cube = x.reshaped(Shape(1, rowsCount, cols))
        var again = Tensor(zeros: Shape(cols))
        columnSums(cube, into: &again)
        #expect(maxScaledError(again.scalars, (0..<cols).map { c in (0..<rowsCount).map { Double(m[$0][c]) }.reduce(0, +) }) < 1e-5)
    }
}

/// Column sums split into column blocks over threads (64 columns fill only one 64-wide block, so
/// they go in narrower ones) add each column's rows in order: the bits of a plain loop.
@Test(arguments: [16, 40, 64, 200])
func columnSumsAddEachColumnInRowOrder(cols: Int) {
    let x = randomTensor(Shape(4096, cols), seed: UInt64(cols))
    var sums = Tensor(zeros: Shape(cols))
    columnSums(x, into: &sums)
    var expected = [Float](repeating: 0, count: cols)
    for r in 0..<4096 { for c in 0..<cols { expected[c] += x[r, c] } }
    #expect(sums.scalars == expected)
}

@Test func firstNonFiniteIndexFindsNaNAndInfinityAnywhere() {
    for n in [1, 15, 16, 17, 100, 1000] {
        var x = randomTensor(Shape(n), seed: UInt64(n))
        #expect(x.firstNonFiniteIndex() == nil)
        for position in Set([0, n / 2, n - 1]) {
            var y = x
            y[flat: position] = position % 2 == 0 ? .nan : -.infinity
            #expect(y.firstNonFiniteIndex() == position, "n \(n), position \(position)")
        }
        x[flat: n - 1] = .infinity
        if n > 1 { x[flat: n / 2] = .nan }
        #expect(x.firstNonFiniteIndex() == (n > 1 ? n / 2 : 0))
    }
}
