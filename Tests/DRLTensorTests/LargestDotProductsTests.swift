import CDRLKernels
import DRLTensor
import Testing

@Suite(.serialized) struct LargestDotProductsTests {
    /// The rows' largest dot products by the definition: a chain of multiply-adds per product
    /// (fused when `fused`), the largest kept in query order unless a later one is at least as large.
    func reference(_ rows: [[Float]], _ queries: [[Float]], fused: Bool) -> [Float] {
        rows.map { row in
            var largest: Float = 0
            for query in queries {
                var dot: Float = 0
                for k in row.indices { dot = fused ? dot.addingProduct(row[k], query[k]) : dot + row[k] * query[k] }
                largest = dot >= largest ? dot : largest
            }
            return largest
        }
    }

    func random(_ count: Int, _ width: Int, _ rng: inout RandomGenerator) -> [[Float]] {
        (0..<count).map { _ in (0..<width).map { _ in Float(rng.uniform()) - 0.5 } }
    }

    func compute(_ rows: [[Float]], _ queries: [[Float]]) -> [Float] {
        let d = queries[0].count
        let transposed = Tensor(shape: Shape(d, rows.count), scalars: (0..<d).flatMap { k in rows.map { $0[k] } })
        var out = Tensor(zeros: Shape(rows.count))
        largestDotProducts(rowsTransposed: transposed, queries: Tensor(shape: Shape(queries.count, d), scalars: queries.flatMap { $0 }), into: &out)
        return out.scalars
    }

    /// Every instruction-set variant, with row counts that leave partial vectors and query counts
    /// that leave partial groups of four: with fused multiply-adds (AVX2, AVX-512) the products are
    /// the definition's to the bit; the portable variant (no fused multiply-add on x86) within rounding.
    @Test(arguments: [0, 1, 2])
    func everyVariantGivesTheDefinitionsValues(isa: Int) {
        var rng = RandomGenerator(seed: 7)
        let level = Int(drl_kernel_force_isa(Int32(isa)))
        defer { _ = drl_kernel_force_isa(-1) }
        for (n, q, d) in [(1, 1, 16), (7, 3, 16), (33, 4, 5), (203, 10, 16), (64, 9, 32)] {
            // Small enough to run on this thread, with its variant.
            #expect(n * q * d < 1 << 16)
            let rows = random(n, d, &rng), queries = random(q, d, &rng)
            let got = compute(rows, queries)
            if level > 0 {
                #expect(got == reference(rows, queries, fused: true), "isa \(level), \(n) rows, \(q) queries of \(d)")
            } else {
                let expected = reference(rows, queries, fused: true)
                #expect(zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "portable, \(n) rows, \(q) queries of \(d)")
            }
        }
    }

    /// Rows below every query give 0; a NaN product is never taken; a large call split over the
    /// engine's threads gives every row's value as the definition does.
    @Test func floorNaNAndThreads() {
        let negative = compute([[1, 1], [-1, 2]], [[-1, -1], [-2, -2]])
        #expect(negative == [0, 0])
        let withNaN = compute([[1, 1]], [[.nan, 0], [0.5, 0.25], [.nan, .nan]])
        #expect(withNaN == [0.75])
        var rng = RandomGenerator(seed: 8)
        let rows = random(20_011, 16, &rng), queries = random(10, 16, &rng)
        let got = compute(rows, queries)
        let fused = drl_kernel_isa() > 0
        let expected = reference(rows, queries, fused: fused)
        #expect(fused ? got == expected : zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-5 })
    }
}
