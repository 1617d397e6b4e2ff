import DRLData
import DRLTensor

/// Matrix factorisation of implicit feedback by alternating least squares (Hu, Koren and
/// Volinsky, ICDM 2008). Every user-item pair has a preference p (1 if they interacted, 0
/// otherwise) and a confidence c = 1 + α·count; the factors minimise
/// Σ_{u,i} c_ui (p_ui − x_uᵀy_i)² + λ(Σ‖x_u‖² + Σ‖y_i‖²). Each half-sweep solves every user (then
/// every item) exactly: (YᵀY + Σ_{i∈I(u)} α·r_ui·y_i y_iᵀ + λI) x_u = Σ_{i∈I(u)} c_ui y_i, with YᵀY
/// from one GEMM and the k × k system by Cholesky (LAPACK sposv). So the objective never rises.
public final class ImplicitALS {
    /// The factors' width, the regularisation λ, the confidence α and the alternating sweeps.
    public struct Configuration: Sendable {
        public var factors = 16
        public var regularization: Float = 0.1
        /// α of the confidence 1 + α·count.
        public var confidence: Float = 10
        public var iterations = 10
        public init() {}
    }

    public let configuration: Configuration
    /// [users, factors] and [items, factors].
    public private(set) var userFactors: Tensor
    public private(set) var itemFactors: Tensor
    private var gram: Tensor
    /// YᵀY of the current item factors (what every fold-in needs).
    private var itemGram: Tensor

    /// Random small factors (normal, standard deviation 0.1/√factors) for `users` × `items`.
    public init(users: Int, items: Int, configuration: Configuration = Configuration(), seed: UInt64) {
        let k = configuration.factors
        require(users > 0 && items > 0 && k > 0, "ImplicitALS: \(users) users, \(items) items and \(k) factors must all be positive")
        require(configuration.regularization > 0 && configuration.confidence >= 0 && configuration.iterations >= 0,
                "ImplicitALS: regularization \(configuration.regularization) must be > 0, confidence \(configuration.confidence) ≥ 0, iterations \(configuration.iterations) ≥ 0")
        self.configuration = configuration
        var rng = RandomGenerator(seed: seed, stream: 0xA15)
        let scale = 0.1 / Float(k).squareRoot()
        userFactors = Tensor.normal(Shape(users, k), std: scale, using: &rng)
        itemFactors = Tensor.normal(Shape(items, k), std: scale, using: &rng)
        gram = Tensor(zeros: Shape(k, k))
        itemGram = matmul(itemFactors, itemFactors, transposeA: true)
    }

    /// Runs `configuration.iterations` sweeps (users, then items) on `matrix`, calling `progress`
    /// with the sweep number after each.
    public func fit(_ matrix: InteractionMatrix, progress: (Int) -> Void = { _ in }) throws {
        require(matrix.users == userFactors.shape[0] && matrix.items == itemFactors.shape[0],
                "ImplicitALS.fit: a \(matrix.users) × \(matrix.items) matrix for factors of \(userFactors.shape[0]) users × \(itemFactors.shape[0]) items")
        let transposed = matrix.transposed()
        for sweep in 0..<configuration.iterations {
            try sweepUsers(matrix)
            try sweepItems(transposed)
            progress(sweep + 1)
        }
    }

    /// Solves every user's factors with the item factors fixed.
    public func sweepUsers(_ matrix: InteractionMatrix) throws {
        try Self.solveRows(of: matrix, fixed: itemFactors, into: &userFactors, gram: &gram, configuration)
    }

    /// Solves every item's factors with the user factors fixed (`transposed` is items × users).
    public func sweepItems(_ transposed: InteractionMatrix) throws {
        try Self.solveRows(of: transposed, fixed: userFactors, into: &itemFactors, gram: &gram, configuration)
        gemm(itemFactors, itemFactors, into: &itemGram, transposeA: true)
    }

    /// The factors of a user who is not in the training matrix, from the items they interacted
    /// with (fold-in: one user step with the item factors fixed). No items gives zero factors.
    public func foldIn(items: [Int32], counts: [Float]? = nil) throws -> Tensor {
        let counts = counts ?? [Float](repeating: 1, count: items.count)
        require(counts.count == items.count, "ImplicitALS.foldIn: \(counts.count) counts for \(items.count) items")
        return try Self.solve(items: items[...], counts: counts[...], fixed: itemFactors, gram: itemGram, configuration)
    }

    /// The objective Σ c(p − xᵀy)² + λ(‖X‖² + ‖Y‖²) over all pairs, in Double; the unobserved
    /// pairs enter through trace(XᵀX·YᵀY) so the cost is O((users + items)·k² + entries·k).
    public func objective(_ matrix: InteractionMatrix) -> Double {
        let k = configuration.factors
        let userGram = matmul(userFactors, userFactors, transposeA: true), itemGram = matmul(itemFactors, itemFactors, transposeA: true)
        var total = 0.0
        for a in 0..<k { for b in 0..<k { total += Double(userGram[a, b]) * Double(itemGram[a, b]) } }
        for user in 0..<matrix.users {
            let row = matrix.row(user)
            for (item, count) in zip(row.items, row.counts) {
                var score = 0.0
                for j in 0..<k { score += Double(userFactors[user, j]) * Double(itemFactors[Int(item), j]) }
                let confidence = 1 + Double(configuration.confidence) * Double(count)
                total += confidence * (1 - score) * (1 - score) - score * score
            }
        }
        var norms = 0.0
        userFactors.withUnsafeBufferPointer { for v in $0 { norms += Double(v) * Double(v) } }
        itemFactors.withUnsafeBufferPointer { for v in $0 { norms += Double(v) * Double(v) } }
        return total + Double(configuration.regularization) * norms
    }

    private static func solveRows(of matrix: InteractionMatrix, fixed: Tensor, into factors: inout Tensor, gram: inout Tensor,
                                  _ configuration: Configuration) throws {
        gemm(fixed, fixed, into: &gram, transposeA: true)
        let k = configuration.factors
        for row in 0..<matrix.users {
            let entries = matrix.row(row)
            let x = try solve(items: entries.items, counts: entries.counts, fixed: fixed, gram: gram, configuration)
            for j in 0..<k { factors[row, j] = x[flat: j] }
        }
    }

    /// (gram + Σ α·r·y yᵀ + λI)⁻¹ · Σ (1 + α·r)·y over the given rows y of `fixed`.
    private static func solve(items: ArraySlice<Int32>, counts: ArraySlice<Float>, fixed: Tensor, gram: Tensor,
                              _ configuration: Configuration) throws -> Tensor {
        let k = configuration.factors, alpha = configuration.confidence
        var system = gram.clone(), rhs = Tensor(zeros: Shape(k))
        for k2 in 0..<k { system[k2, k2] += configuration.regularization }
        if items.isEmpty { return rhs }
        fixed.withUnsafeBufferPointer { y in
            system.withUnsafeMutableBufferPointer { a in
                rhs.withUnsafeMutableBufferPointer { b in
                    for (item, count) in zip(items, counts) {
                        let base = Int(item) * k, extra = alpha * count
                        for r in 0..<k {
                            b[r] += (1 + extra) * y[base + r]
                            for c in 0...r { a[r * k + c] += extra * y[base + r] * y[base + c] }
                        }
                    }
                }
            }
        }
        // sposv reads the lower triangle only.
        return try LinearAlgebra.choleskySolve(system, rhs)
    }
}
