@testable import DRLTensor
import Testing

@Suite struct BLASTests {
    static let shapes: [(m: Int, k: Int, n: Int)] = [(1, 1, 1), (1, 5, 1), (7, 1, 3), (3, 4, 5), (17, 9, 33), (64, 31, 2), (2, 70, 65)]

    @Test(arguments: [false, true], [false, true])
    func gemmMatchesNaiveProductForEveryTransposeCombination(transposeA: Bool, transposeB: Bool) {
        for (index, s) in Self.shapes.enumerated() {
            let a = randomTensor(transposeA ? Shape(s.k, s.m) : Shape(s.m, s.k), seed: UInt64(10 + index))
            let b = randomTensor(transposeB ? Shape(s.n, s.k) : Shape(s.k, s.n), seed: UInt64(50 + index))
            let c0 = randomTensor(Shape(s.m, s.n), seed: UInt64(90 + index))
            let opA = transposeA ? Matrix(a).transposed : Matrix(a)
            let opB = transposeB ? Matrix(b).transposed : Matrix(b)
            let product = opA * opB
            // Plain product.
            var c = Tensor(zeros: Shape(s.m, s.n))
            matmul(a, b, into: &c, transposeA: transposeA, transposeB: transposeB)
            #expect(Matrix(c).maxAbsDifference(product) < 1e-5 * Double(s.k + 1), "shape \(s)")
            // alpha/beta accumulation into an existing output.
            var acc = c0
            gemm(a, b, into: &acc, transposeA: transposeA, transposeB: transposeB, alpha: -0.5, beta: 2)
            let expected = Matrix(rows: s.m, cols: s.n,
                                  values: zip(product.values, c0.scalars).map { -0.5 * $0 + 2 * Double($1) })
            #expect(Matrix(acc).maxAbsDifference(expected) < 1e-5 * Double(s.k + 1), "shape \(s)")
            // Allocating form.
            let fresh = matmul(a, b, transposeA: transposeA, transposeB: transposeB)
            #expect(fresh.shape == Shape(s.m, s.n) && fresh == c)
        }
    }

    /// Products large enough to be split over threads: row blocks for tall outputs, column blocks
    /// for short wide ones, for every transpose combination.
    @Test(arguments: [(m: 300, k: 30, n: 40), (m: 3, k: 40, n: 3000), (m: 97, k: 65, n: 1001), (m: 1, k: 64, n: 3001), (m: 1, k: 7, n: 1025)])
    func splitProductsMatchNaiveProduct(shape: (m: Int, k: Int, n: Int)) {
        let (m, k, n) = shape
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = randomTensor(transposeA ? Shape(k, m) : Shape(m, k), seed: 1)
                let b = randomTensor(transposeB ? Shape(n, k) : Shape(k, n), seed: 2)
                let c0 = randomTensor(Shape(m, n), seed: 3)
                var c = c0
                gemm(a, b, into: &c, transposeA: transposeA, transposeB: transposeB, alpha: 2, beta: 0.5)
                let product = (transposeA ? Matrix(a).transposed : Matrix(a)) * (transposeB ? Matrix(b).transposed : Matrix(b))
                let expected = Matrix(rows: m, cols: n, values: zip(product.values, c0.scalars).map { 2 * $0 + 0.5 * Double($1) })
                #expect(Matrix(c).maxAbsDifference(expected) < 1e-4, "\(shape) transposeA \(transposeA) transposeB \(transposeB)")
            }
        }
    }

    /// Products cut into OpenBLAS small-matrix blocks: rows of C (with a last, shorter block), or
    /// for aᵀ·b with a long inner dimension, accumulating inner blocks; with alpha and beta, and
    /// for every transpose combination (op(b) transposed is computed whole). On kernels without
    /// small-matrix paths the option does nothing, and the same must hold.
    @Test(arguments: [(m: 300, k: 64, n: 192), (m: 96, k: 2000, n: 64), (m: 1000, k: 192, n: 64)], [GemmBlocking.smallCalls, .smallRowsOrInner])
    func smallBlockProductsMatchNaiveProduct(shape: (m: Int, k: Int, n: Int), blocking: GemmBlocking) {
        let (m, k, n) = shape
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = randomTensor(transposeA ? Shape(k, m) : Shape(m, k), seed: 4)
                let b = randomTensor(transposeB ? Shape(n, k) : Shape(k, n), seed: 5)
                let c0 = randomTensor(Shape(m, n), seed: 6)
                var c = c0
                gemm(a, b, into: &c, transposeA: transposeA, transposeB: transposeB, alpha: 2, beta: 0.5, blocking: blocking)
                let product = (transposeA ? Matrix(a).transposed : Matrix(a)) * (transposeB ? Matrix(b).transposed : Matrix(b))
                let expected = Matrix(rows: m, cols: n, values: zip(product.values, c0.scalars).map { 2 * $0 + 0.5 * Double($1) })
                #expect(Matrix(c).maxAbsDifference(expected) < 1e-5 * Double(k), "\(shape) transposeA \(transposeA) transposeB \(transposeB)")
                // Row blocks change nothing: the same bits as one call.
                if blocking == .smallCalls {
                    var whole = c0
                    gemm(a, b, into: &whole, transposeA: transposeA, transposeB: transposeB, alpha: 2, beta: 0.5)
                    #expect(whole == c, "\(shape) transposeA \(transposeA) transposeB \(transposeB)")
                }
            }
        }
    }

    /// A weight gradient dW (+)= dYᵀ·X in `.smallCalls` gives the bits of one OpenBLAS call per
    /// thread: over inner dimensions of one block, of a block and a halved remainder, of whole
    /// blocks and a short last one; for row counts that split over threads unevenly; for C both
    /// narrower and wider than the 64 columns of one call; overwritten (beta 0) and accumulated
    /// (beta 1). The shapes include the transformer benchmark's four weight gradients. On a kernel
    /// with small-matrix calls the schedule must have been found, or this would compare one call
    /// with itself.
    @Test(arguments: [(m: 192, k: 7680, n: 64), (m: 64, k: 7680, n: 256), (m: 64, k: 805, n: 48), (m: 37, k: 1001, n: 70),
                      (m: 100, k: 333, n: 300), (m: 5, k: 4100, n: 130), (m: 128, k: 640, n: 256), (m: 2, k: 700, n: 1100)])
    func weightGradientsInSmallCallsHaveTheBitsOfOneCall(shape: (m: Int, k: Int, n: Int)) {
        let (m, k, n) = shape
        Engine.ensureConfigured()
        #expect(!OpenBLASKernel.hasSmallMatrixKernels || GemmDepthSchedule.detected != nil)
        let dy = randomTensor(Shape(k, m), seed: 21), x = randomTensor(Shape(k, n), seed: 22)
        let c0 = randomTensor(Shape(m, n), seed: 23)
        for beta: Float in [0, 1] {
            var whole = c0, small = c0
            gemm(dy, x, into: &whole, transposeA: true, beta: beta)
            gemm(dy, x, into: &small, transposeA: true, beta: beta, blocking: .smallCalls)
            #expect(whole == small, "\(shape) beta \(beta)")
        }
    }

    /// `gemm(…, bias:)` fills each thread's rows (or columns) with the bias before its product:
    /// the bits of a bias copied into every row first and a product accumulated into it (beta 1),
    /// for row blocks, small-matrix blocks, column blocks and the one-row sgemv path.
    @Test(arguments: [(m: 300, k: 64, n: 192), (m: 1000, k: 192, n: 64), (m: 3, k: 40, n: 3000), (m: 1, k: 64, n: 3001), (m: 5, k: 7, n: 3)])
    func biasIsAddedToEveryRowAsAPassBeforeTheProductWould(shape: (m: Int, k: Int, n: Int)) {
        let (m, k, n) = shape
        let bias = randomTensor(Shape(n), seed: 8)
        for transposeB in [false, true] {
            for blocking in [GemmBlocking.whole, .smallCalls] {
                let a = randomTensor(Shape(m, k), seed: 9)
                let b = randomTensor(transposeB ? Shape(n, k) : Shape(k, n), seed: 10)
                var c = randomTensor(Shape(m, n), seed: 11)  // overwritten
                gemm(a, b, into: &c, transposeB: transposeB, alpha: 0.5, bias: bias, blocking: blocking)
                var expected = Tensor(zeros: Shape(m, n))
                for r in 0..<m { for j in 0..<n { expected[r, j] = bias[flat: j] } }
                gemm(a, b, into: &expected, transposeB: transposeB, alpha: 0.5, beta: 1, blocking: blocking)
                #expect(c == expected, "\(shape) transposeB \(transposeB) \(blocking)")
            }
        }
    }

    /// A product written into one time step of a [B, T, F] sequence gives the bits of the same
    /// product into a matrix, and leaves the other steps untouched; one step's share of a
    /// recurrent layer's parameter gradients matches the products and sums written out, and a
    /// nil gradient (a frozen parameter) is skipped.
    @Test(arguments: [(batch: 256, time: 3, features: 64, gates: 192), (batch: 5, time: 2, features: 3, gates: 7)])
    func timeStepProductsMatchProductsOfTheGatheredRows(shape: (batch: Int, time: Int, features: Int, gates: Int)) {
        let (b, t, f, g) = shape
        let hidden = 5
        let x = randomTensor(Shape(b, t, f), seed: 12), h = randomTensor(Shape(b, hidden), seed: 13)
        let wOut = randomTensor(Shape(g, f), seed: 14)
        let dgx = randomTensor(Shape(b, g), seed: 15), dgh = randomTensor(Shape(b, g), seed: 16)
        let y0 = randomTensor(Shape(b, t, f), seed: 17)
        let starts = [Shape(g, f), Shape(g), Shape(g, hidden), Shape(g)].enumerated().map { randomTensor($1, seed: UInt64(20 + $0)) }
        for step in 0..<t {
            var y = y0, stepProduct = Tensor(zeros: Shape(b, f))
            projectIntoTimeStep(dgx, wOut, into: &y, step: step)
            gemm(dgx, wOut, into: &stepProduct)
            for r in 0..<b {
                for s in 0..<t {
                    for j in 0..<f where y[r, s, j] != (s == step ? stepProduct[r, j] : y0[r, s, j]) {
                        Issue.record("projectIntoTimeStep \(shape) step \(step): y[\(r), \(s), \(j)] = \(y[r, s, j])")
                        return
                    }
                }
            }

            var rows = Tensor(zeros: Shape(b, f))
            for r in 0..<b { for j in 0..<f { rows[r, j] = x[r, step, j] } }
            let gradients = starts.map { start in
                var w = Tensor(workspace: start.shape)
                w.withUnsafeMutableBufferPointer { p in start.withUnsafeBufferPointer { p.update(fromContentsOf: $0) } }
                return w
            }
            accumulateRecurrentStepGradients(inputGates: dgx, recurrentGates: dgh, input: x, step: step, previous: h,
                                             weightIH: gradients[0], biasIH: gradients[1], weightHH: gradients[2], biasHH: nil)
            let ones = Matrix(rows: b, cols: 1, values: Array(repeating: 1, count: b))
            let expected = [Matrix(dgx).transposed * Matrix(rows), Matrix(dgx).transposed * ones,
                            Matrix(dgh).transposed * Matrix(h), Matrix(rows: g, cols: 1, values: Array(repeating: 0, count: g))]
            for (i, product) in expected.enumerated() {
                let want = Matrix(rows: product.rows, cols: product.cols,
                                  values: zip(product.values, starts[i].scalars).map { $0 + Double($1) })
                let got = Matrix(rows: product.rows, cols: product.cols, values: gradients[i].scalars.map(Double.init))
                #expect(got.maxAbsDifference(want) < 1e-5 * Double(b), "gradient \(i), \(shape) step \(step)")
            }
        }
    }

    @Test func transposeSwapsRowsAndColumns() {
        let a = randomTensor(Shape(37, 5), seed: 7)
        var t = Tensor(zeros: Shape(5, 37))
        transpose(a, into: &t)
        #expect(Matrix(t).maxAbsDifference(Matrix(a).transposed) == 0)
    }

    @Test func matmulKeepsLeadingDimensionsOfAHigherRankInput() {
        let x = randomTensor(Shape(2, 3, 4), seed: 1)
        let w = randomTensor(Shape(4, 5), seed: 2)
        let y = matmul(x, w)
        #expect(y.shape == Shape(2, 3, 5))
        let reference = Matrix(x) * Matrix(w)
        #expect(Matrix(y).maxAbsDifference(reference) < 1e-5)
    }

    @Test(arguments: [false, true], [false, true])
    func batchedGemmMatchesPerItemProducts(transposeA: Bool, transposeB: Bool) {
        for (batch, m, k, n) in [(1, 1, 1, 1), (5, 3, 4, 2), (24, 30, 32, 30), (3, 70, 80, 90)] {
            let a = randomTensor(transposeA ? Shape(batch, k, m) : Shape(batch, m, k), seed: 3)
            let b = randomTensor(transposeB ? Shape(batch, n, k) : Shape(batch, k, n), seed: 4)
            let shared = randomTensor(transposeB ? Shape(n, k) : Shape(k, n), seed: 5)
            var c = randomTensor(Shape(batch, m, n), seed: 6)
            var cShared = Tensor(zeros: Shape(batch, m, n))
            let c0 = c
            batchedGemm(a, b, into: &c, transposeA: transposeA, transposeB: transposeB, alpha: 1.5, beta: 1)
            batchedGemm(a, shared, into: &cShared, transposeA: transposeA, transposeB: transposeB)
            for i in 0..<batch {
                let opA = transposeA ? Matrix(a[row: i]).transposed : Matrix(a[row: i])
                let opB = transposeB ? Matrix(b[row: i]).transposed : Matrix(b[row: i])
                let opS = transposeB ? Matrix(shared).transposed : Matrix(shared)
                let expected = Matrix(rows: m, cols: n,
                                      values: zip((opA * opB).values, c0[row: i].scalars).map { 1.5 * $0 + Double($1) })
                #expect(Matrix(c[row: i]).maxAbsDifference(expected) < 1e-4, "batch item \(i) of \(batch)x\(m)x\(k)x\(n)")
                #expect(Matrix(cShared[row: i]).maxAbsDifference(opA * opS) < 1e-4)
            }
        }
    }

    @Test(arguments: [false, true])
    func gemvMatchesNaiveProduct(transposeA: Bool) {
        for (rows, cols) in [(1, 1), (1, 7), (9, 1), (13, 6), (40, 65)] {
            let a = randomTensor(Shape(rows, cols), seed: 7)
            let (inLen, outLen) = transposeA ? (rows, cols) : (cols, rows)
            let x = randomTensor(Shape(inLen), seed: 8)
            let y0 = randomTensor(Shape(outLen), seed: 9)
            var y = y0
            gemv(a, x, into: &y, transposeA: transposeA, alpha: 2, beta: -1)
            let op = transposeA ? Matrix(a).transposed : Matrix(a)
            let ax = op * Matrix(rows: inLen, cols: 1, values: x.scalars.map(Double.init))
            for i in 0..<outLen { expectClose(y[flat: i], 2 * ax.values[i] - Double(y0[flat: i]), rel: 1e-5, abs: 1e-5) }
        }
    }

    @Test func levelOneRoutinesMatchNaiveLoops() {
        for n in [1, 2, 17, 1000] {
            let x = randomTensor(Shape(n), seed: 11), y0 = randomTensor(Shape(n), seed: 12)
            var y = y0
            axpy(0.25, x, &y)
            #expect(maxScaledError(y.scalars, zip(x.scalars, y0.scalars).map { 0.25 * Double($0) + Double($1) }) < 1e-6)
            var z = x
            scal(-3, &z)
            #expect(maxScaledError(z.scalars, x.scalars.map { -3 * Double($0) }) < 1e-6)
            let d = zip(x.scalars, y0.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            expectClose(dot(x, y0), d, rel: 1e-5, abs: 1e-5)
            let norm = x.scalars.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            expectClose(nrm2(x), norm, rel: 1e-6, abs: 1e-7)
        }
        // nrm2 does not overflow where the naive sum of squares would.
        let big = Tensor(shape: Shape(2), scalars: [3e30, 4e30])
        expectClose(nrm2(big), 5e30, rel: 1e-6)
    }
}
