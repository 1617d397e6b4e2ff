import DRLTensor
import Foundation
import Testing

/// |actual − expected| ≤ abs + rel·|expected|, with matching infinities and NaN.
func isClose(_ actual: Float, _ expected: Double, rel: Double, abs: Double) -> Bool {
    if expected.isNaN { return actual.isNaN }
    if expected.isInfinite { return Double(actual) == expected }
    if !actual.isFinite { return false }
    return Swift.abs(Double(actual) - expected) <= abs + rel * Swift.abs(expected)
}

func expectClose(_ actual: Float, _ expected: Double, rel: Double = 1e-5, abs: Double = 1e-6,
                 _ context: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(isClose(actual, expected, rel: rel, abs: abs),
            "got \(actual), expected \(expected) \(context())", sourceLocation: sourceLocation)
}

/// Largest |a − b| / (1 + |b|) over two equally long sequences.
func maxScaledError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    var worst = 0.0
    for (x, y) in zip(a, b) { worst = Swift.max(worst, Swift.abs(Double(x) - y) / (1 + Swift.abs(y))) }
    return worst
}

func randomTensor(_ shape: Shape, seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low, high, using: &rng)
}

/// Plain row-major matrix in Double for reference computations.
struct Matrix {
    var rows: Int, cols: Int
    var values: [Double]

    init(rows: Int, cols: Int, values: [Double]) { self.rows = rows; self.cols = cols; self.values = values }
    init(_ t: Tensor) {
        let (r, c) = t.shape.matrix
        self.init(rows: r, cols: c, values: t.scalars.map(Double.init))
    }
    subscript(i: Int, j: Int) -> Double { values[i * cols + j] }

    var transposed: Matrix {
        var v = [Double](repeating: 0, count: values.count)
        for i in 0..<rows { for j in 0..<cols { v[j * rows + i] = self[i, j] } }
        return Matrix(rows: cols, cols: rows, values: v)
    }

    static func * (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.cols == b.rows)
        var v = [Double](repeating: 0, count: a.rows * b.cols)
        for i in 0..<a.rows { for k in 0..<a.cols { let x = a[i, k]; for j in 0..<b.cols { v[i * b.cols + j] += x * b[k, j] } } }
        return Matrix(rows: a.rows, cols: b.cols, values: v)
    }

    static func identity(_ n: Int) -> Matrix {
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        return Matrix(rows: n, cols: n, values: v)
    }

    func maxAbsDifference(_ other: Matrix) -> Double {
        precondition(rows == other.rows && cols == other.cols, "[\(rows), \(cols)] vs [\(other.rows), \(other.cols)]")
        return zip(values, other.values).map { Swift.abs($0 - $1) }.max() ?? 0
    }
}
