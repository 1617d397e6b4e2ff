// Elementwise arithmetic. Shapes must match exactly (no implicit broadcasting); the one
// broadcast offered is a row vector over every row (`addRowVector`), the bias pattern.

enum BinaryOperation {
    case add, subtract, multiply, divide
}

/// out[i] = a[i] ∘ b[i]. `out` may be `a` (in-place updates).
struct BinaryTask: ParallelTask {
    let a: UnsafePointer<Float>, b: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>
    let operation: BinaryOperation

    func run(_ items: Range<Int>) {
        switch operation {
        case .add: for i in items { out[i] = a[i] + b[i] }
        case .subtract: for i in items { out[i] = a[i] - b[i] }
        case .multiply: for i in items { out[i] = a[i] * b[i] }
        case .divide: for i in items { out[i] = a[i] / b[i] }
        }
    }
}

/// out[i] = a[i] * scale + shift. `out` may be `a`.
struct AffineTask: ParallelTask {
    let a: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>
    let scale: Float, shift: Float

    func run(_ items: Range<Int>) {
        for i in items { out[i] = a[i] * scale + shift }
    }
}

/// out[r, c] = a[r, c] + v[c] over rows.
struct AddRowVectorTask: ParallelTask {
    let a: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>
    let cols: Int

    func run(_ rows: Range<Int>) {
        for r in rows {
            let base = r * cols
            for c in 0..<cols { out[base + c] = a[base + c] + v[c] }
        }
    }
}

func binary(_ a: Tensor, _ b: Tensor, into out: inout Tensor, _ operation: BinaryOperation, _ name: StaticString) {
    require(a.shape == b.shape && out.count == a.count,
            "\(name): shapes \(a.shape) and \(b.shape) into \(out.shape) do not match")
    out.makeUnique()
    let task = BinaryTask(a: a.basePointer, b: b.basePointer, out: out.basePointer, operation: operation)
    withExtendedLifetime((a, b)) { Parallel.run(task, count: a.count, workPerItem: 1) }
}

/// out = a + b
public func add(_ a: Tensor, _ b: Tensor, into out: inout Tensor) { binary(a, b, into: &out, .add, "add") }
/// out = a - b
public func subtract(_ a: Tensor, _ b: Tensor, into out: inout Tensor) { binary(a, b, into: &out, .subtract, "subtract") }
/// out = a * b (elementwise)
public func multiply(_ a: Tensor, _ b: Tensor, into out: inout Tensor) { binary(a, b, into: &out, .multiply, "multiply") }
/// out = a / b (elementwise)
public func divide(_ a: Tensor, _ b: Tensor, into out: inout Tensor) { binary(a, b, into: &out, .divide, "divide") }

/// out = a * scale + shift
public func affine(_ a: Tensor, scale: Float, shift: Float = 0, into out: inout Tensor) {
    require(out.count == a.count, "affine: shape \(a.shape) into \(out.shape) do not match")
    out.makeUnique()
    let task = AffineTask(a: a.basePointer, out: out.basePointer, scale: scale, shift: shift)
    withExtendedLifetime(a) { Parallel.run(task, count: a.count, workPerItem: 1) }
}

/// out[r, :] = a[r, :] + v for every row of `a` seen as a matrix; v has a's last dimension.
public func addRowVector(_ a: Tensor, _ v: Tensor, into out: inout Tensor) {
    let (rows, cols) = a.shape.matrix
    require(v.count == cols && out.count == a.count,
            "addRowVector: \(a.shape) + row \(v.shape) into \(out.shape) do not match")
    out.makeUnique()
    let task = AddRowVectorTask(a: a.basePointer, v: v.basePointer, out: out.basePointer, cols: cols)
    withExtendedLifetime((a, v)) { Parallel.run(task, count: rows, workPerItem: cols) }
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor { var o = Tensor(zeros: a.shape); add(a, b, into: &o); return o }
    public static func - (a: Tensor, b: Tensor) -> Tensor { var o = Tensor(zeros: a.shape); subtract(a, b, into: &o); return o }
    public static func * (a: Tensor, b: Tensor) -> Tensor { var o = Tensor(zeros: a.shape); multiply(a, b, into: &o); return o }
    public static func / (a: Tensor, b: Tensor) -> Tensor { var o = Tensor(zeros: a.shape); divide(a, b, into: &o); return o }
    public static func * (a: Tensor, s: Float) -> Tensor { var o = Tensor(zeros: a.shape); affine(a, scale: s, into: &o); return o }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func + (a: Tensor, s: Float) -> Tensor { var o = Tensor(zeros: a.shape); affine(a, scale: 1, shift: s, into: &o); return o }
    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    // In place: no allocation when `a` is uniquely referenced.
    public static func += (a: inout Tensor, b: Tensor) { a.update(with: b, .add, "+=") }
    public static func -= (a: inout Tensor, b: Tensor) { a.update(with: b, .subtract, "-=") }
    public static func *= (a: inout Tensor, b: Tensor) { a.update(with: b, .multiply, "*=") }
    public static func /= (a: inout Tensor, b: Tensor) { a.update(with: b, .divide, "/=") }
    public static func *= (a: inout Tensor, s: Float) { a.updateAffine(scale: s, shift: 0) }
    public static func += (a: inout Tensor, s: Float) { a.updateAffine(scale: 1, shift: s) }

    mutating func update(with b: Tensor, _ operation: BinaryOperation, _ name: StaticString) {
        require(shape == b.shape, "\(name): shapes \(shape) and \(b.shape) differ")
        makeUnique()
        let task = BinaryTask(a: basePointer, b: b.basePointer, out: basePointer, operation: operation)
        withExtendedLifetime(b) { Parallel.run(task, count: count, workPerItem: 1) }
    }

    mutating func updateAffine(scale: Float, shift: Float) {
        makeUnique()
        Parallel.run(AffineTask(a: basePointer, out: basePointer, scale: scale, shift: shift), count: count, workPerItem: 1)
    }

    /// Replaces every element x by f(x), on the calling thread.
    public mutating func mapInPlace(_ f: (Float) -> Float) {
        withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = f(p[i]) }
        }
    }
}
