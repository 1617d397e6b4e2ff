import DRLData
import DRLRanking
import DRLTensor
import Testing

/// A planted taste structure: user u belongs to block u % blocks and clicks `perUser` random items
/// of that block's items (item i belongs to block i % blocks), once or twice.
private func plantedMatrix(users: Int = 120, items: Int = 80, blocks: Int = 4, perUser: Int = 6, seed: UInt64 = 1)
    -> (matrix: InteractionMatrix, heldOut: [Int32]) {
    var rng = RandomGenerator(seed: seed)
    var entries: [(user: Int, item: Int32, count: Float)] = [], heldOut: [Int32] = []
    for u in 0..<users {
        let block = u % blocks
        var mine = (0..<(items / blocks)).map { Int32($0 * blocks + block) }
        rng.shuffle(&mine)
        for item in mine.prefix(perUser) { entries.append((u, item, Float(1 + rng.nextIndex(below: 2)))) }
        heldOut.append(mine[perUser])
    }
    return (InteractionMatrix(users: users, items: items, entries: entries), heldOut)
}

@Suite struct ImplicitALSTests {

    @Test func theMatrixSumsDuplicatesAndTransposes() {
        let m = InteractionMatrix(users: 3, items: 4, entries: [(0, 2, 1), (2, 1, 2), (0, 2, 3), (0, 0, 1)])
        #expect(m.entryCount == 3)
        #expect(Array(m.row(0).items) == [0, 2] && Array(m.row(0).counts) == [1, 4])
        #expect(m.row(1).items.isEmpty)
        let t = m.transposed()
        #expect(t.users == 4 && t.items == 3)
        #expect(Array(t.row(2).items) == [0] && Array(t.row(2).counts) == [4])
        #expect(Array(t.row(1).items) == [2] && Array(t.row(1).counts) == [2])
        #expect(m.itemCounts() == [1, 2, 4, 0])
    }

    /// Each half-sweep minimises the objective exactly over one block of factors, so it never rises.
    @Test func everyHalfSweepLowersTheObjective() throws {
        let (matrix, _) = plantedMatrix()
        var configuration = ImplicitALS.Configuration()
        configuration.factors = 6
        let als = ImplicitALS(users: matrix.users, items: matrix.items, configuration: configuration, seed: 3)
        let transposed = matrix.transposed()
        var previous = als.objective(matrix)
        for _ in 0..<6 {
            try als.sweepUsers(matrix)
            let afterUsers = als.objective(matrix)
            try als.sweepItems(transposed)
            let afterItems = als.objective(matrix)
            #expect(afterUsers <= previous * (1 + 1e-5) && afterItems <= afterUsers * (1 + 1e-5))
            previous = afterItems
        }
    }

    /// The user step solves (YᵀY + Σ α·r·y yᵀ + λI) x = Σ (1 + α·r) y: checked in Double, and
    /// folding in a training user's row gives back the factors the sweep found.
    @Test func userFactorsSolveTheirNormalEquations() throws {
        let (matrix, _) = plantedMatrix()
        var configuration = ImplicitALS.Configuration()
        configuration.factors = 5
        configuration.confidence = 4
        configuration.iterations = 2
        let als = ImplicitALS(users: matrix.users, items: matrix.items, configuration: configuration, seed: 4)
        try als.fit(matrix)
        try als.sweepUsers(matrix)
        let k = configuration.factors, y = als.itemFactors
        for user in [0, 17, 63] {
            var a = [[Double]](repeating: [Double](repeating: 0, count: k), count: k), b = [Double](repeating: 0, count: k)
            for i in 0..<matrix.items { for r in 0..<k { for c in 0..<k { a[r][c] += Double(y[i, r]) * Double(y[i, c]) } } }
            for r in 0..<k { a[r][r] += Double(configuration.regularization) }
            let row = matrix.row(user)
            for (item, count) in zip(row.items, row.counts) {
                let extra = Double(configuration.confidence * count)
                for r in 0..<k {
                    b[r] += (1 + extra) * Double(y[Int(item), r])
                    for c in 0..<k { a[r][c] += extra * Double(y[Int(item), r]) * Double(y[Int(item), c]) }
                }
            }
            for r in 0..<k {
                let residual = (0..<k).reduce(0.0) { $0 + a[r][$1] * Double(als.userFactors[user, $1]) } - b[r]
                #expect(abs(residual) < 1e-3 * max(1, abs(b[r])))
            }
            let folded = try als.foldIn(items: Array(row.items), counts: Array(row.counts))
            for j in 0..<k { #expect(abs(folded[flat: j] - als.userFactors[user, j]) < 1e-4) }
        }
        #expect(try als.foldIn(items: []).withUnsafeBufferPointer { $0.allSatisfy { $0 == 0 } })
    }

    /// On planted blocks, each user's held-out item of their own block outranks the items of
    /// other blocks: ALS has recovered the structure from the clicks alone.
    @Test func recoversPlantedTastes() throws {
        let (matrix, heldOut) = plantedMatrix()
        var configuration = ImplicitALS.Configuration()
        configuration.factors = 8
        let als = ImplicitALS(users: matrix.users, items: matrix.items, configuration: configuration, seed: 5)
        try als.fit(matrix)
        let scores = matmul(als.userFactors, als.itemFactors, transposeB: true)
        var wins = 0, comparisons = 0
        for u in 0..<matrix.users {
            for other in 0..<matrix.items where other % 4 != u % 4 {
                comparisons += 1
                if scores[u, Int(heldOut[u])] > scores[u, other] { wins += 1 }
            }
        }
        #expect(Double(wins) / Double(comparisons) > 0.95)
    }
}

@Suite struct KMeansTests {

    @Test func recoversSeparatedClustersAndAssignsNewPoints() {
        var rng = RandomGenerator(seed: 2)
        let centres: [[Float]] = [[5, 0], [-5, 0], [0, 6]]
        var scalars: [Float] = [], truth: [Int] = []
        for i in 0..<90 {
            let c = i % 3
            truth.append(c)
            scalars += [centres[c][0] + 0.5 * rng.normal(), centres[c][1] + 0.5 * rng.normal()]
        }
        let points = Tensor(shape: Shape(90, 2), scalars: scalars)
        let model = KMeans(points: points, clusters: 3, seed: 1)
        // One cluster per planted centre, whatever their order.
        let mapping = (0..<3).map { c in model.assignments[truth.firstIndex(of: c)!] }
        #expect(Set(mapping).count == 3)
        for i in 0..<90 { #expect(model.assignments[i] == mapping[truth[i]]) }
        for c in 0..<3 { #expect(model.nearest(centres[c]) == mapping[c]) }
        #expect(model.inertia(points) < 90 * 2 * 0.5 * 0.5 * 1.5)
    }
}
