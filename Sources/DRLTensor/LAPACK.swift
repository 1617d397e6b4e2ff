import CBLASShim

/// A failure reported by a LAPACK routine, with the routine's name and its `info` code.
public struct LAPACKError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What the routine's `info` code says.
    public enum Reason: Equatable, Sendable {
        /// Argument number `position` (1-based, LAPACK's numbering) had an illegal value.
        case illegalArgument(position: Int)
        /// The leading minor of this order is not positive definite (Cholesky).
        case notPositiveDefinite(minorOrder: Int)
        /// U(pivot, pivot) is exactly zero: the matrix is singular (LU).
        case singular(pivot: Int)
        /// The iterative algorithm did not converge (SVD, eigendecomposition).
        case didNotConverge(info: Int)
        /// The input held NaN or infinity; LAPACK was not called.
        case nonFiniteInput(argument: String)
    }

    public let routine: String
    public let info: Int32
    public let reason: Reason

    public init(routine: String, info: Int32, reason: Reason) {
        self.routine = routine
        self.info = info
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .illegalArgument(let p): return "\(routine): argument \(p) has an illegal value (info = \(info))"
        case .notPositiveDefinite(let k):
            return "\(routine): the matrix is not positive definite (leading minor of order \(k) is not; info = \(info))"
        case .singular(let p): return "\(routine): the matrix is singular (U(\(p),\(p)) is exactly zero; info = \(info))"
        case .didNotConverge(let i): return "\(routine): the algorithm did not converge (info = \(i))"
        case .nonFiniteInput(let arg): return "\(routine): \(arg) contains NaN or infinity"
        }
    }
}

/// Linear-algebra routines from LAPACK (through LAPACKE, row-major). Inputs are never modified.
public enum LinearAlgebra {
    static func char(_ c: Unicode.Scalar) -> CChar { CChar(UInt8(ascii: c)) }

    static func requireSquare(_ a: Tensor, _ routine: String) -> Int {
        require(a.rank == 2 && a.shape[0] == a.shape[1], "\(routine) needs a square matrix; got shape \(a.shape)")
        return a.shape[0]
    }

    /// Checks for NaN/inf (LAPACK would fail obscurely or return garbage) and makes sure the
    /// engine has chosen its BLAS kernel before LAPACK calls into BLAS.
    static func requireFinite(_ t: Tensor, _ routine: String, _ argument: String) throws {
        Engine.ensureConfigured()
        let finite = t.withUnsafeBufferPointer { $0.allSatisfy { $0.isFinite } }
        if !finite { throw LAPACKError(routine: routine, info: 0, reason: .nonFiniteInput(argument: argument)) }
    }

    static func check(_ info: Int32, _ routine: String, positive: (Int) -> LAPACKError.Reason) throws {
        if info < 0 { throw LAPACKError(routine: routine, info: info, reason: .illegalArgument(position: Int(-info))) }
        if info > 0 { throw LAPACKError(routine: routine, info: info, reason: positive(Int(info))) }
    }

    /// Right-hand sides as a matrix [n, nrhs]: a vector of n elements is one column.
    static func rhsColumns(_ b: Tensor, rows n: Int, _ routine: String) -> Int {
        if b.rank == 1 {
            require(b.count == n, "\(routine): right-hand side of shape \(b.shape) needs \(n) rows")
            return 1
        }
        require(b.rank == 2 && b.shape[0] == n, "\(routine): right-hand side of shape \(b.shape) needs \(n) rows")
        return b.shape[1]
    }

    /// Lower-triangular L with L·Lᵀ = a, for a symmetric positive-definite `a` (reads its lower
    /// triangle). Throws `notPositiveDefinite` otherwise (spotrf).
    public static func cholesky(_ a: Tensor) throws -> Tensor {
        let n = requireSquare(a, "spotrf")
        try requireFinite(a, "spotrf", "the matrix")
        var l = a.clone()
        let info = l.withUnsafeMutableBufferPointer {
            LAPACKE_spotrf(LAPACK_ROW_MAJOR, char("L"), Int32(n), $0.baseAddress, Int32(max(n, 1)))
        }
        try check(info, "spotrf") { .notPositiveDefinite(minorOrder: $0) }
        for i in 0..<n { for j in (i + 1)..<max(n, i + 1) { l[i, j] = 0 } }
        return l
    }

    /// Solves a·x = b for symmetric positive-definite `a` by Cholesky (sposv). `b` is [n] or
    /// [n, nrhs]; the result has b's shape.
    public static func choleskySolve(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let n = requireSquare(a, "sposv")
        let nrhs = rhsColumns(b, rows: n, "sposv")
        try requireFinite(a, "sposv", "the matrix")
        try requireFinite(b, "sposv", "the right-hand side")
        var factor = a.clone(), x = b.clone()
        let info = factor.withUnsafeMutableBufferPointer { pa in
            x.withUnsafeMutableBufferPointer { px in
                LAPACKE_sposv(LAPACK_ROW_MAJOR, char("L"), Int32(n), Int32(nrhs), pa.baseAddress, Int32(max(n, 1)),
                              px.baseAddress, Int32(max(nrhs, 1)))
            }
        }
        try check(info, "sposv") { .notPositiveDefinite(minorOrder: $0) }
        return x
    }

    /// Solves a·x = b for a general square `a` by LU with partial pivoting (sgesv). Throws
    /// `singular` when a pivot is exactly zero. `b` is [n] or [n, nrhs].
    public static func solve(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let n = requireSquare(a, "sgesv")
        let nrhs = rhsColumns(b, rows: n, "sgesv")
        try requireFinite(a, "sgesv", "the matrix")
        try requireFinite(b, "sgesv", "the right-hand side")
        var lu = a.clone(), x = b.clone()
        var pivots = [Int32](repeating: 0, count: max(n, 1))
        let info = lu.withUnsafeMutableBufferPointer { pa in
            x.withUnsafeMutableBufferPointer { px in
                LAPACKE_sgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(nrhs), pa.baseAddress, Int32(max(n, 1)), &pivots,
                              px.baseAddress, Int32(max(nrhs, 1)))
            }
        }
        try check(info, "sgesv") { .singular(pivot: $0) }
        return x
    }

    /// Reduced QR factorisation a = q·r with q [m, k] having orthonormal columns and r [k, n] upper
    /// triangular, k = min(m, n) (sgeqrf + sorgqr).
    public static func qr(_ a: Tensor) throws -> (q: Tensor, r: Tensor) {
        require(a.rank == 2, "qr needs a matrix; got shape \(a.shape)")
        let m = a.shape[0], n = a.shape[1], k = min(m, n)
        try requireFinite(a, "sgeqrf", "the matrix")
        var work = a.clone()
        var tau = [Float](repeating: 0, count: max(k, 1))
        let lda = Int32(max(n, 1))
        var info = work.withUnsafeMutableBufferPointer {
            LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), $0.baseAddress, lda, &tau)
        }
        try check(info, "sgeqrf") { .didNotConverge(info: $0) }
        var r = Tensor(zeros: Shape(k, n))
        for i in 0..<k { for j in i..<n { r[i, j] = work[i, j] } }
        // sorgqr overwrites the first k columns of the [m, n] array with Q.
        info = work.withUnsafeMutableBufferPointer {
            LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(k), Int32(k), $0.baseAddress, lda, tau)
        }
        try check(info, "sorgqr") { .didNotConverge(info: $0) }
        var q = Tensor(zeros: Shape(m, k))
        for i in 0..<m { for j in 0..<k { q[i, j] = work[i, j] } }
        return (q, r)
    }

    /// Thin singular value decomposition a = u·diag(s)·vt with u [m, k], s [k] descending, vt [k, n],
    /// k = min(m, n) (sgesdd, divide and conquer).
    public static func svd(_ a: Tensor) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        require(a.rank == 2, "svd needs a matrix; got shape \(a.shape)")
        let m = a.shape[0], n = a.shape[1], k = min(m, n)
        try requireFinite(a, "sgesdd", "the matrix")
        var work = a.clone()
        var s = Tensor(zeros: Shape(k)), u = Tensor(zeros: Shape(m, k)), vt = Tensor(zeros: Shape(k, n))
        let info = work.withUnsafeMutableBufferPointer { pa in
            s.withUnsafeMutableBufferPointer { ps in
                u.withUnsafeMutableBufferPointer { pu in
                    vt.withUnsafeMutableBufferPointer { pv in
                        LAPACKE_sgesdd(LAPACK_ROW_MAJOR, char("S"), Int32(m), Int32(n), pa.baseAddress, Int32(max(n, 1)),
                                       ps.baseAddress, pu.baseAddress, Int32(max(k, 1)), pv.baseAddress, Int32(max(n, 1)))
                    }
                }
            }
        }
        try check(info, "sgesdd") { .didNotConverge(info: $0) }
        return (u, s, vt)
    }

    /// Eigendecomposition of a symmetric matrix (reads its lower triangle): eigenvalues ascending and
    /// eigenvectors as the columns of `vectors`, so a·vectors[:, i] = values[i]·vectors[:, i] (ssyevd).
    public static func symmetricEigen(_ a: Tensor) throws -> (values: Tensor, vectors: Tensor) {
        let n = requireSquare(a, "ssyevd")
        try requireFinite(a, "ssyevd", "the matrix")
        var vectors = a.clone()
        var values = Tensor(zeros: Shape(n))
        let info = vectors.withUnsafeMutableBufferPointer { pa in
            values.withUnsafeMutableBufferPointer { pw in
                LAPACKE_ssyevd(LAPACK_ROW_MAJOR, char("V"), char("L"), Int32(n), pa.baseAddress, Int32(max(n, 1)),
                               pw.baseAddress)
            }
        }
        try check(info, "ssyevd") { .didNotConverge(info: $0) }
        return (values, vectors)
    }
}
