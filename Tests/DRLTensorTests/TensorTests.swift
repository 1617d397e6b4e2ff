import DRLTensor
import Foundation
import Testing

@Suite struct ShapeTests {
    @Test func countsAndMatrixView() {
        let s: Shape = [2, 3, 4]
        #expect(s.rank == 3 && s.elementCount == 24 && s.rowStride == 12)
        #expect(s.matrix.rows == 6 && s.matrix.cols == 4)
        #expect(s[-1] == 4 && s.droppingFirst == Shape(3, 4) && s.replacingFirst(with: 5) == Shape(5, 3, 4))
        #expect(Shape([]).elementCount == 1 && Shape(0, 7).elementCount == 0)
        #expect(s.description == "[2, 3, 4]")
        #expect(Shape(2, 3) != Shape(3, 2) && Shape(2, 3) != Shape(2, 3, 1))
    }
}

@Suite struct TensorTests {
    @Test func storageIsSixtyFourByteAligned() {
        for n in [1, 3, 17, 1000] {
            let t = Tensor(zeros: Shape(n))
            t.withUnsafeBufferPointer { #expect(Int(bitPattern: $0.baseAddress!) % 64 == 0) }
        }
    }

    @Test func initialisersAndElementAccess() {
        var t = Tensor(shape: Shape(2, 3), scalars: [1, 2, 3, 4, 5, 6])
        #expect(t[1, 2] == 6 && t[flat: 4] == 5)
        t[0, 1] = 20
        #expect(t.scalars == [1, 20, 3, 4, 5, 6])
        #expect(Tensor(shape: Shape(2), repeating: 3).scalars == [3, 3])
        #expect(Tensor(shape: Shape(3), generator: { Float($0 * $0) }).scalars == [0, 1, 4])
        let cube = Tensor(shape: Shape(2, 2, 2), generator: { Float($0) })
        #expect(cube[1, 0, 1] == 5)
    }

    @Test func copiesAreIndependent() {
        let a = Tensor(shape: Shape(3), scalars: [1, 2, 3])
        var b = a
        b[flat: 0] = 9
        #expect(a.scalars == [1, 2, 3] && b.scalars == [9, 2, 3])
    }

    @Test func rowViewsShareStorageWithoutCopying() {
        let t = Tensor(shape: Shape(4, 2), generator: { Float($0) })
        let v = t[rows: 1..<3]
        #expect(v.shape == Shape(2, 2) && v.scalars == [2, 3, 4, 5] && v.sharesStorage(with: t))
        let r = t[row: 3]
        #expect(r.shape == Shape(2) && r.scalars == [6, 7] && r.sharesStorage(with: t))
        let reshaped = t.reshaped(Shape(2, 4))
        #expect(reshaped.sharesStorage(with: t) && reshaped[1, 0] == 4)
    }

    @Test func mutatingARowViewWritesThroughWithoutCopyingTheParent() {
        var t = Tensor(shape: Shape(4, 3), generator: { Float($0) })
        t.withUnsafeBufferPointer { _ in }
        let before = t.withUnsafeBufferPointer { $0.baseAddress! }
        t[rows: 1..<3].fill(with: -1)
        t[rows: 0..<1].withUnsafeMutableBufferPointer { $0[2] = 100 }
        #expect(t.scalars == [0, 1, 100, -1, -1, -1, -1, -1, -1, 9, 10, 11])
        #expect(t.withUnsafeBufferPointer { $0.baseAddress! } == before)
        // Kernels writing into a view go straight into the parent's storage.
        let x = Tensor(shape: Shape(2, 3), scalars: [0, 0, 0, 1, 2, 3])
        softmax(x, into: &t[rows: 2..<4])
        #expect(t.scalars[0..<6] == [0, 1, 100, -1, -1, -1])
        expectClose(t[2, 0], 1.0 / 3.0)
        expectClose(t[3, 2], exp(3.0) / (exp(1.0) + exp(2.0) + exp(3.0)))
    }

    @Test func assigningRowsCopiesIntoPlace() {
        var t = Tensor(zeros: Shape(3, 2))
        t[rows: 1..<3] = Tensor(shape: Shape(2, 2), scalars: [1, 2, 3, 4])
        t[row: 0] = Tensor(shape: Shape(2), scalars: [7, 8])
        #expect(t.scalars == [7, 8, 1, 2, 3, 4])
        // A view of the same tensor as the source is read before it is overwritten.
        t[rows: 0..<1] = t[rows: 2..<3]
        #expect(t.scalars == [3, 4, 1, 2, 3, 4])
    }

    @Test func writingToASharedViewDoesNotChangeTheOriginal() {
        let t = Tensor(shape: Shape(2, 2), scalars: [1, 2, 3, 4])
        var v = t[rows: 0..<1]
        v[0, 0] = 50
        #expect(t.scalars == [1, 2, 3, 4] && v.scalars == [50, 2])
    }

    @Test func equalityAndDescription() {
        let a = Tensor(shape: Shape(2), scalars: [1, 2])
        #expect(a == Tensor(shape: Shape(2), scalars: [1, 2]))
        #expect(a != Tensor(shape: Shape(1, 2), scalars: [1, 2]))
        #expect(a.description.contains("[2]"))
    }

    @Test func arithmeticMatchesScalarReference() {
        let a = randomTensor(Shape(33, 7), seed: 1)
        let b = randomTensor(Shape(33, 7), seed: 2, low: 0.5, high: 2)
        let (sa, sb) = (a.scalars, b.scalars)
        #expect((a + b).scalars == zip(sa, sb).map { $0 + $1 })
        #expect((a - b).scalars == zip(sa, sb).map { $0 - $1 })
        #expect((a * b).scalars == zip(sa, sb).map { $0 * $1 })
        #expect((a / b).scalars == zip(sa, sb).map { $0 / $1 })
        #expect((a * 3).scalars == sa.map { $0 * 3 })
        #expect((-a).scalars == sa.map { -$0 })
        var c = a
        c += b
        c *= 2
        #expect(c.scalars == zip(sa, sb).map { ($0 + $1) * 2 })
        var shifted = Tensor(zeros: a.shape)
        affine(a, scale: 2, shift: 1, into: &shifted)
        #expect(shifted.scalars == sa.map { $0 * 2 + 1 })
        let bias = randomTensor(Shape(7), seed: 3)
        var withBias = Tensor(zeros: a.shape)
        addRowVector(a, bias, into: &withBias)
        for r in 0..<33 { for col in 0..<7 { #expect(withBias[r, col] == a[r, col] + bias[flat: col]) } }
    }

    @Test func largeArithmeticUsesEveryChunkCorrectly() {
        // Large enough to be split across threads.
        let a = randomTensor(Shape(300_001), seed: 4), b = randomTensor(Shape(300_001), seed: 5)
        var out = Tensor(zeros: a.shape)
        add(a, b, into: &out)
        #expect(out.scalars == zip(a.scalars, b.scalars).map { $0 + $1 })
    }
}

@Suite struct WorkspaceTensorTests {
    @Test func viewsOfWorkspaceStorageShareWrites() {
        let w = Tensor(workspace: Shape(3, 2))
        var alias = w
        alias[0, 1] = 7
        var rows = w[rows: 1..<3]
        rows.fill(with: 1)
        #expect(w.isWorkspace && w.scalars == [0, 7, 1, 1, 1, 1])
        var out = w[rows: 0..<1]
        add(Tensor(shape: Shape(1, 2), scalars: [1, 2]), Tensor(shape: Shape(1, 2), scalars: [3, 4]), into: &out)
        #expect(w.scalars == [4, 6, 1, 1, 1, 1])
    }

    @Test func cloneIsIndependentOrdinaryStorage() {
        let w = Tensor(workspace: Shape(2))
        var c = w.clone()
        c[flat: 0] = 3
        #expect(!c.isWorkspace && w.scalars == [0, 0] && c.scalars == [3, 0])
    }

    @Test func lapackNeverWritesIntoAWorkspaceInput() throws {
        var a = Tensor(workspace: Shape(2, 2))
        a.copy(from: Tensor(shape: Shape(2, 2), scalars: [4, 1, 1, 3]))
        _ = try LinearAlgebra.cholesky(a)
        _ = try LinearAlgebra.solve(a, Tensor(shape: Shape(2), scalars: [1, 2]))
        _ = try LinearAlgebra.qr(a)
        _ = try LinearAlgebra.svd(a)
        _ = try LinearAlgebra.symmetricEigen(a)
        _ = try LinearAlgebra.choleskySolve(a, Tensor(shape: Shape(2), scalars: [1, 2]))
        #expect(a.scalars == [4, 1, 1, 3])
    }
}
