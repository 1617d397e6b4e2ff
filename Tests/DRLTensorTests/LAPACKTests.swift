import DRLTensor
import Testing

/// A random symmetric positive-definite matrix: B·Bᵀ + n·I.
func spdMatrix(_ n: Int, seed: UInt64) -> Tensor {
    let b = randomTensor(Shape(n, n), seed: seed)
    var a = matmul(b, b, transposeB: true)
    for i in 0..<n { a[i, i] += Float(n) }
    return a
}

func tensor(_ m: Matrix) -> Tensor { Tensor(shape: Shape(m.rows, m.cols), scalars: m.values.map(Float.init)) }

@Suite struct LAPACKTests {
    static let sizes = [1, 2, 5, 16, 37]
    static let rectangles: [(Int, Int)] = [(1, 1), (1, 4), (4, 1), (5, 5), (12, 7), (7, 12), (40, 3)]

    @Test(arguments: sizes)
    func choleskyFactorReconstructsTheMatrix(n: Int) throws {
        let a = spdMatrix(n, seed: UInt64(n))
        let l = try LinearAlgebra.cholesky(a)
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { #expect(l[i, j] == 0, "upper entry (\(i), \(j))") } }
        #expect((Matrix(l) * Matrix(l).transposed).maxAbsDifference(Matrix(a)) < 1e-4 * Double(n))
    }

    @Test(arguments: sizes)
    func choleskySolveHasSmallResidual(n: Int) throws {
        let a = spdMatrix(n, seed: 100 + UInt64(n))
        let b = randomTensor(Shape(n), seed: 3)
        let x = try LinearAlgebra.choleskySolve(a, b)
        #expect(x.shape == b.shape)
        let residual = Matrix(a) * Matrix(rows: n, cols: 1, values: x.scalars.map(Double.init))
        #expect(maxScaledError(b.scalars, residual.values) < 1e-5)
        let many = randomTensor(Shape(n, 3), seed: 4)
        let xs = try LinearAlgebra.choleskySolve(a, many)
        #expect((Matrix(a) * Matrix(xs)).maxAbsDifference(Matrix(many)) < 1e-4)
    }

    @Test(arguments: sizes)
    func generalSolveHasSmallResidual(n: Int) throws {
        var a = randomTensor(Shape(n, n), seed: 200 + UInt64(n))
        for i in 0..<n { a[i, i] += 3 }
        let b = randomTensor(Shape(n, 2), seed: 5)
        let x = try LinearAlgebra.solve(a, b)
        #expect((Matrix(a) * Matrix(x)).maxAbsDifference(Matrix(b)) < 1e-4)
        let v = randomTensor(Shape(n), seed: 6)
        let xv = try LinearAlgebra.solve(a, v)
        let r = Matrix(a) * Matrix(rows: n, cols: 1, values: xv.scalars.map(Double.init))
        #expect(maxScaledError(v.scalars, r.values) < 1e-4)
    }

    @Test(arguments: rectangles)
    func qrGivesOrthonormalQAndUpperTriangularR(m: Int, n: Int) throws {
        let a = randomTensor(Shape(m, n), seed: UInt64(m * 31 + n))
        let (q, r) = try LinearAlgebra.qr(a)
        let k = min(m, n)
        #expect(q.shape == Shape(m, k) && r.shape == Shape(k, n))
        #expect((Matrix(q).transposed * Matrix(q)).maxAbsDifference(.identity(k)) < 1e-5)
        for i in 0..<k { for j in 0..<min(i, n) { #expect(r[i, j] == 0) } }
        #expect((Matrix(q) * Matrix(r)).maxAbsDifference(Matrix(a)) < 1e-5)
    }

    @Test(arguments: rectangles)
    func svdReconstructsTheMatrix(m: Int, n: Int) throws {
        let a = randomTensor(Shape(m, n), seed: UInt64(m * 17 + n))
        let (u, s, vt) = try LinearAlgebra.svd(a)
        let k = min(m, n)
        #expect(u.shape == Shape(m, k) && s.shape == Shape(k) && vt.shape == Shape(k, n))
        let sv = s.scalars
        #expect(zip(sv, sv.dropFirst()).allSatisfy { $0 >= $1 } && sv.allSatisfy { $0 >= 0 })
        #expect((Matrix(u).transposed * Matrix(u)).maxAbsDifference(.identity(k)) < 1e-5)
        #expect((Matrix(vt) * Matrix(vt).transposed).maxAbsDifference(.identity(k)) < 1e-5)
        var us = Matrix(u)
        for i in 0..<m { for j in 0..<k { us.values[i * k + j] *= Double(sv[j]) } }
        #expect((us * Matrix(vt)).maxAbsDifference(Matrix(a)) < 1e-5)
    }

    @Test func svdOfAKnownMatrix() throws {
        // diag(3, 2) padded: singular values 3 and 2.
        let a = Tensor(shape: Shape(3, 2), scalars: [0, 2, 3, 0, 0, 0])
        let s = try LinearAlgebra.svd(a).s
        #expect(s.scalars == [3, 2])
    }

    @Test(arguments: sizes)
    func symmetricEigenpairsSatisfyTheDefinition(n: Int) throws {
        let b = randomTensor(Shape(n, n), seed: 300 + UInt64(n))
        let a = tensor(Matrix(b) * Matrix(b).transposed)  // symmetric
        let (values, vectors) = try LinearAlgebra.symmetricEigen(a)
        let w = values.scalars
        #expect(zip(w, w.dropFirst()).allSatisfy { $0 <= $1 })
        #expect((Matrix(vectors).transposed * Matrix(vectors)).maxAbsDifference(.identity(n)) < 1e-5)
        let av = Matrix(a) * Matrix(vectors)
        for i in 0..<n { for j in 0..<n {
            #expect(Swift.abs(av[i, j] - Double(w[j]) * Double(vectors[i, j])) < 1e-4 * Double(n), "eigenpair \(j)")
        } }
    }

    @Test func knownEigenvalues() throws {
        let a = Tensor(shape: Shape(2, 2), scalars: [2, 1, 1, 2])
        let values = try LinearAlgebra.symmetricEigen(a).values.scalars
        expectClose(values[0], 1, abs: 1e-6)
        expectClose(values[1], 3, abs: 1e-6)
    }

    @Test func notPositiveDefiniteMatrixThrows() {
        let indefinite = Tensor(shape: Shape(3, 3), scalars: [4, 1, 0, 1, -2, 0, 0, 0, 1])
        #expect(throws: LAPACKError(routine: "spotrf", info: 2, reason: .notPositiveDefinite(minorOrder: 2))) {
            try LinearAlgebra.cholesky(indefinite)
        }
        let error = #expect(throws: LAPACKError.self) {
            try LinearAlgebra.choleskySolve(indefinite, Tensor(shape: Shape(3), repeating: 1))
        }
        #expect(error?.routine == "sposv" && error?.reason == .notPositiveDefinite(minorOrder: 2))
        #expect(error?.description.contains("not positive definite") == true)
    }

    @Test func singularMatrixThrows() {
        let singular = Tensor(shape: Shape(3, 3), scalars: [1, 2, 3, 2, 4, 6, 1, 0, 1])
        let error = #expect(throws: LAPACKError.self) {
            try LinearAlgebra.solve(singular, Tensor(shape: Shape(3), repeating: 1))
        }
        #expect(error?.routine == "sgesv")
        if case .singular = error?.reason {} else { Issue.record("expected .singular, got \(String(describing: error))") }
        #expect(error.map { $0.info > 0 } == true)
        #expect(throws: LAPACKError.self) { try LinearAlgebra.solve(Tensor(zeros: Shape(1, 1)), Tensor(zeros: Shape(1))) }
    }

    @Test func nonFiniteInputThrowsBeforeCallingLAPACK() {
        let a = Tensor(shape: Shape(2, 2), scalars: [1, .nan, 0, 1])
        #expect(throws: LAPACKError(routine: "sgesv", info: 0, reason: .nonFiniteInput(argument: "the matrix"))) {
            try LinearAlgebra.solve(a, Tensor(zeros: Shape(2)))
        }
        #expect(throws: LAPACKError.self) { try LinearAlgebra.svd(Tensor(shape: Shape(1, 2), scalars: [1, .infinity])) }
        #expect(throws: LAPACKError.self) { try LinearAlgebra.qr(a) }
        #expect(throws: LAPACKError.self) { try LinearAlgebra.symmetricEigen(a) }
        #expect(throws: LAPACKError.self) { try LinearAlgebra.cholesky(a) }
    }

    @Test func inputsAreNotModified() throws {
        let a = spdMatrix(4, seed: 9)
        let copy = a.scalars
        _ = try LinearAlgebra.cholesky(a)
        _ = try LinearAlgebra.solve(a, randomTensor(Shape(4), seed: 1))
        _ = try LinearAlgebra.svd(a)
        _ = try LinearAlgebra.qr(a)
        _ = try LinearAlgebra.symmetricEigen(a)
        #expect(a.scalars == copy)
    }
}
