// Elementwise arithmetic. Shapes must match exactly (no implicit broadcasting); the one
// broadcast offered is a row vector over every row (`addRowVector`), the bias pattern.

@inline(__always) @usableFromInline
func binaryMap(_ a: Tensor, _ b: Tensor, into out: inout Tensor, _ name: StaticString,
               _ f: (Float, Float) -> Float) {
    precondition(a.shape == b.shape && out.count == a.count,
                 "\(name): shapes \(a.shape) and \(b.shape) into \(out.shape) do not match")
    out.makeUnique()
    let pa = a.basePointer, pb = b.basePointer, po = out.basePointer
    withExtendedLifetime((a, b)) {
        Parallel.forChunks(count: a.count, workPerItem: 1) { range in
            for i in range { po[i] = f(pa[i], pb[i]) }
        }
    }
}

@inline(__always) @usableFromInline
func unaryMap(_ a: Tensor, into out: inout Tensor, _ name: StaticString, _ f: (Float) -> Float) {
    precondition(out.count == a.count, "\(name): shape \(a.shape) into \(out.shape) do not match")
    out.makeUnique()
    let pa = a.basePointer, po = out.basePointer
    withExtendedLifetime(a) {
        Parallel.forChunks(count: a.count, workPerItem: 1) { range in
            for i in range { po[i] = f(pa[i]) }
        }
    }
}

/// out = a + b
@inlinable public func add(_ a: Tensor, _ b: Tensor, into out: inout Tensor) { binaryMap(a, b, into: &out, "add") { $0 + $1 } }
/// out = a - b
@inlinable public func subtract(_ a: Tensor, _ b: Tensor, into out: inout Tensor) { binaryMap(a, b, into: &out, "subtract") { $0 - $1 } }
/// out = a * b (elementwise)
@inlinable public func multiply(_ a: Tensor, _ b: Tensor, into out: inout Tensor) { binaryMap(a, b, into: &out, "multiply") { $0 * $1 } }
/// out = a / b (elementwise)
@inlinable public func divide(_ a: Tensor, _ b: Tensor, into out: inout Tensor) { binaryMap(a, b, into: &out, "divide") { $0 / $1 } }
/// out = a * scale + shift
@inlinable public func affine(_ a: Tensor, scale: Float, shift: Float = 0, into out: inout Tensor) {
    unaryMap(a, into: &out, "affine") { $0 * scale + shift }
}

/// out[r, :] = a[r, :] + v for every row of `a` seen as a matrix; v has a's last dimension.
@inlinable
public func addRowVector(_ a: Tensor, _ v: Tensor, into out: inout Tensor) {
    let (rows, cols) = a.shape.matrix
    precondition(v.count == cols && out.count == a.count,
                 "addRowVector: \(a.shape) + row \(v.shape) into \(out.shape) do not match")
    out.makeUnique()
    let pa = a.basePointer, pv = v.basePointer, po = out.basePointer
    withExtendedLifetime((a, v)) {
        Parallel.forChunks(count: rows, workPerItem: cols) { range in
            for r in range {
                let base = r * cols
                for c in 0..<cols { po[base + c] = pa[base + c] + pv[c] }
            }
        }
    }
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
    @inlinable public static func += (a: inout Tensor, b: Tensor) { inPlace(&a, b, "+=") { $0 + $1 } }
    @inlinable public static func -= (a: inout Tensor, b: Tensor) { inPlace(&a, b, "-=") { $0 - $1 } }
    @inlinable public static func *= (a: inout Tensor, b: Tensor) { inPlace(&a, b, "*=") { $0 * $1 } }
    @inlinable public static func /= (a: inout Tensor, b: Tensor) { inPlace(&a, b, "/=") { $0 / $1 } }
    @inlinable public static func *= (a: inout Tensor, s: Float) { a.mapInPlace { $0 * s } }
    @inlinable public static func += (a: inout Tensor, s: Float) { a.mapInPlace { $0 + s } }

    @inline(__always) @usableFromInline
    static func inPlace(_ a: inout Tensor, _ b: Tensor, _ name: StaticString, _ f: (Float, Float) -> Float) {
        precondition(a.shape == b.shape, "\(name): shapes \(a.shape) and \(b.shape) differ")
        a.makeUnique()
        let pa = a.basePointer, pb = b.basePointer
        withExtendedLifetime(b) {
            Parallel.forChunks(count: a.count, workPerItem: 1) { range in
                for i in range { pa[i] = f(pa[i], pb[i]) }
            }
        }
    }

    /// Replaces every element x by f(x).
    @inline(__always) @inlinable
    public mutating func mapInPlace(_ f: (Float) -> Float) {
        makeUnique()
        let p = basePointer
        Parallel.forChunks(count: count, workPerItem: 1) { range in
            for i in range { p[i] = f(p[i]) }
        }
    }
}
