/// The dimensions of a tensor, outermost first (row-major). Up to `Shape.maxRank` dimensions are
/// stored inline, so building or slicing a shape never allocates.
public struct Shape: Sendable {
    public static let maxRank = 6

    @usableFromInline var dims: InlineArray<6, Int>
    /// Number of dimensions.
    public let rank: Int

    @inlinable
    public init(_ dimensions: [Int]) {
        require(dimensions.count <= Shape.maxRank,
                "Shape \(dimensions) has rank \(dimensions.count); DRLTensor supports at most \(Shape.maxRank)")
        require(dimensions.allSatisfy { $0 >= 0 }, "Shape \(dimensions) has a negative dimension")
        dims = InlineArray(repeating: 0)
        for (i, d) in dimensions.enumerated() { dims[i] = d }
        rank = dimensions.count
    }

    @inlinable
    public init(_ dimensions: Int...) { self.init(dimensions) }

    // Fixed-arity forms: the variadic one builds an array (a heap allocation) on every call, and
    // shapes are made in hot loops.
    @inlinable public init(_ d0: Int) { self.init(rank: 1, d0) }
    @inlinable public init(_ d0: Int, _ d1: Int) { self.init(rank: 2, d0, d1) }
    @inlinable public init(_ d0: Int, _ d1: Int, _ d2: Int) { self.init(rank: 3, d0, d1, d2) }
    @inlinable public init(_ d0: Int, _ d1: Int, _ d2: Int, _ d3: Int) { self.init(rank: 4, d0, d1, d2, d3) }

    /// Builds a shape from up to six dimensions without creating an array.
    @inlinable
    init(rank: Int, _ d0: Int = 0, _ d1: Int = 0, _ d2: Int = 0, _ d3: Int = 0) {
        require(d0 >= 0 && d1 >= 0 && d2 >= 0 && d3 >= 0, "negative dimension in shape")
        dims = InlineArray(repeating: 0)
        dims[0] = d0; dims[1] = d1; dims[2] = d2; dims[3] = d3
        self.rank = rank
    }

    /// Dimension `axis`; negative axes count from the end (-1 is the last).
    @inlinable
    public subscript(axis: Int) -> Int {
        get {
            let a = axis < 0 ? rank + axis : axis
            require(a >= 0 && a < rank, "axis \(axis) is out of range for shape \(self)")
            return dims[a]
        }
        set {
            let a = axis < 0 ? rank + axis : axis
            require(a >= 0 && a < rank, "axis \(axis) is out of range for shape \(self)")
            require(newValue >= 0, "negative dimension \(newValue) for axis \(axis)")
            dims[a] = newValue
        }
    }

    /// Total number of elements (1 for a scalar shape).
    @inlinable
    public var elementCount: Int {
        var n = 1
        for i in 0..<rank { n *= dims[i] }
        return n
    }

    /// Number of elements in one slice along the first axis.
    @inlinable
    public var rowStride: Int {
        var n = 1
        for i in 1..<max(rank, 1) { n *= dims[i] }
        return n
    }

    /// The shape seen as a matrix: (product of all leading dimensions, last dimension).
    @inlinable
    public var matrix: (rows: Int, cols: Int) {
        if rank == 0 { return (1, 1) }
        let cols = dims[rank - 1]
        return (cols == 0 ? 0 : elementCount / cols, cols)
    }

    /// The same shape with the first dimension replaced.
    @inlinable
    public func replacingFirst(with n: Int) -> Shape {
        require(rank >= 1, "a scalar shape has no first dimension")
        var s = self
        s.dims[0] = n
        return s
    }

    /// The shape without its first dimension.
    @inlinable
    public var droppingFirst: Shape {
        require(rank >= 1, "a scalar shape has no first dimension")
        var s = Shape(rank: rank - 1)
        for i in 1..<rank { s.dims[i - 1] = dims[i] }
        return s
    }

    /// The shape with one more, innermost dimension.
    @inlinable
    public func appending(_ dimension: Int) -> Shape {
        require(rank < Shape.maxRank, "cannot append a dimension to \(self): DRLTensor supports rank \(Shape.maxRank)")
        require(dimension >= 0, "negative dimension \(dimension)")
        var s = Shape(rank: rank + 1)
        for i in 0..<rank { s.dims[i] = dims[i] }
        s.dims[rank] = dimension
        return s
    }

    /// The dimensions as an array (allocates; for display and interop).
    public var dimensions: [Int] { (0..<rank).map { dims[$0] } }
}

extension Shape: Equatable, Hashable {
    @inlinable
    public static func == (a: Shape, b: Shape) -> Bool {
        guard a.rank == b.rank else { return false }
        for i in 0..<a.rank where a.dims[i] != b.dims[i] { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rank)
        for i in 0..<rank { hasher.combine(dims[i]) }
    }
}

extension Shape: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Int...) { self.init(elements) }
}

extension Shape: CustomStringConvertible {
    public var description: String { "[" + dimensions.map(String.init).joined(separator: ", ") + "]" }
}
