/// An n-dimensional array of Float32 in row-major order.
///
/// `Tensor` has value semantics with copy-on-write: copies share storage until one of them is
/// written. Slices along the first axis (`tensor[rows: 2..<5]`, `tensor[row: 3]`) and reshapes are
/// views that share storage without copying; writing through `tensor[rows: r] = …` or
/// `tensor[rows: r].withUnsafeMutableBufferPointer { … }` updates the parent in place. Every
/// operation has an `into:` (or in-place) form that writes into an existing tensor, so a training
/// loop that reuses its tensors allocates nothing.
///
/// A workspace tensor (`Tensor(workspace:)`) is the exception: its storage is never copied on
/// write, so all views of it share writes, like a reference. Models keep parameters, gradients and
/// activations in workspace storage; `clone()` gives an ordinary copy.
public struct Tensor: @unchecked Sendable {
    public private(set) var shape: Shape
    @usableFromInline var storage: TensorStorage
    /// Offset of the first element in `storage`, in elements.
    @usableFromInline var offset: Int

    @usableFromInline
    init(storage: TensorStorage, offset: Int, shape: Shape) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
    }

    /// A zero-filled tensor.
    @inlinable
    public init(zeros shape: Shape) {
        self.init(storage: TensorStorage(capacity: shape.elementCount), offset: 0, shape: shape)
    }

    /// A zero-filled workspace tensor: its views share writes (no copy on write).
    public init(workspace shape: Shape) {
        self.init(storage: TensorStorage(capacity: shape.elementCount, sharesWrites: true), offset: 0, shape: shape)
    }

    /// A tensor with every element equal to `value`.
    public init(shape: Shape, repeating value: Float) {
        self.init(zeros: shape)
        if value != 0 { storage.base.update(repeating: value, count: shape.elementCount) }
    }

    /// A tensor holding `scalars` in row-major order.
    public init(shape: Shape, scalars: [Float]) {
        require(scalars.count == shape.elementCount,
                "Tensor(shape: \(shape), scalars:) got \(scalars.count) values; the shape holds \(shape.elementCount)")
        self.init(zeros: shape)
        scalars.withUnsafeBufferPointer { storage.base.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// A tensor whose element at flat index i is `body(i)`.
    public init(shape: Shape, generator body: (Int) throws -> Float) rethrows {
        self.init(zeros: shape)
        for i in 0..<shape.elementCount { storage.base[i] = try body(i) }
    }

    /// A rank-0 tensor.
    public init(scalar: Float) { self.init(shape: Shape([]), scalars: [scalar]) }

    /// Number of elements.
    @inlinable public var count: Int { shape.elementCount }
    @inlinable public var rank: Int { shape.rank }

    /// The elements in row-major order (copies).
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.base + offset, count: count)) }

    /// True when no other tensor shares this tensor's storage (writes will not copy).
    @inlinable public mutating func isUniquelyReferenced() -> Bool { isKnownUniquelyReferenced(&storage) }

    /// True for a view of workspace storage, whose writes all views share.
    @inlinable public var isWorkspace: Bool { storage.sharesWrites }

    /// Prepares for a write: copies the elements into storage of its own if the storage is shared,
    /// unless it is workspace storage, which is written in place.
    @inlinable
    public mutating func makeUnique() {
        if !storage.sharesWrites && !isKnownUniquelyReferenced(&storage) {
            storage = TensorStorage(copying: storage.base + offset, count: count)
            offset = 0
        }
    }

    /// The same elements in new, ordinary storage of their own.
    public func clone() -> Tensor {
        Tensor(storage: TensorStorage(copying: storage.base + offset, count: count), offset: 0, shape: shape)
    }
}

// MARK: - Raw access

extension Tensor {
    /// Read-only access to the elements, contiguous and row-major.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(storage) {
            try body(UnsafeBufferPointer(start: storage.base + offset, count: count))
        }
    }

    /// Mutable access to the elements; copies first only if the storage is shared.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
    }

    /// Pointer to the first element, valid while `self` (or a copy of it) is alive and unmodified.
    @inlinable var basePointer: UnsafeMutablePointer<Float> { storage.base + offset }

    /// The first element of a workspace tensor. Workspace storage is never replaced by a copy, so
    /// the pointer stays valid as long as any view of the storage is alive: layers use it to run
    /// fused loops over their own buffers.
    public var workspaceBaseAddress: UnsafeMutablePointer<Float> {
        require(storage.sharesWrites, "workspaceBaseAddress needs a workspace tensor; this one copies on write")
        return storage.base + offset
    }
}

// MARK: - Elements

extension Tensor {
    @inlinable
    func flatIndex(_ i0: Int, _ i1: Int) -> Int {
        require(rank == 2, "2-index subscript on a tensor of shape \(shape)")
        require(i0 >= 0 && i0 < shape[0] && i1 >= 0 && i1 < shape[1],
                "index [\(i0), \(i1)] is out of range for shape \(shape)")
        return i0 * shape[1] + i1
    }

    @inlinable
    func flatIndex(_ i0: Int, _ i1: Int, _ i2: Int) -> Int {
        require(rank == 3, "3-index subscript on a tensor of shape \(shape)")
        require(i0 >= 0 && i0 < shape[0] && i1 >= 0 && i1 < shape[1] && i2 >= 0 && i2 < shape[2],
                "index [\(i0), \(i1), \(i2)] is out of range for shape \(shape)")
        return (i0 * shape[1] + i1) * shape[2] + i2
    }

    /// Element at row-major position `i`, whatever the rank.
    @inlinable
    public subscript(flat i: Int) -> Float {
        get {
            require(i >= 0 && i < count, "flat index \(i) is out of range for shape \(shape)")
            return storage.base[offset + i]
        }
        set {
            require(i >= 0 && i < count, "flat index \(i) is out of range for shape \(shape)")
            makeUnique()
            storage.base[offset + i] = newValue
        }
    }

    @inlinable
    public subscript(i0: Int, i1: Int) -> Float {
        get { storage.base[offset + flatIndex(i0, i1)] }
        set {
            let i = flatIndex(i0, i1)
            makeUnique()
            storage.base[offset + i] = newValue
        }
    }

    @inlinable
    public subscript(i0: Int, i1: Int, i2: Int) -> Float {
        get { storage.base[offset + flatIndex(i0, i1, i2)] }
        set {
            let i = flatIndex(i0, i1, i2)
            makeUnique()
            storage.base[offset + i] = newValue
        }
    }
}

// MARK: - Views

extension Tensor {
    /// The slice `range` along the first axis, sharing storage. Assigning to it, or mutating it in
    /// place, writes into this tensor without copying the rest.
    @inlinable
    public subscript(rows range: Range<Int>) -> Tensor {
        get {
            checkRows(range)
            return Tensor(storage: storage, offset: offset + range.lowerBound * shape.rowStride,
                          shape: shape.replacingFirst(with: range.count))
        }
        _modify {
            checkRows(range)
            makeUnique()
            let viewOffset = offset + range.lowerBound * shape.rowStride
            let viewShape = shape.replacingFirst(with: range.count)
            // Move the storage into the view so that the view is its only owner while it is mutated.
            var view = Tensor(storage: storage, offset: viewOffset, shape: viewShape)
            storage = TensorStorage.empty
            let owner = ObjectIdentifier(view.storage)
            defer {
                require(ObjectIdentifier(view.storage) == owner && view.offset == viewOffset,
                        "rows \(range) were replaced during an in-place mutation; assign with tensor[rows:] = value")
                require(view.count == viewShape.elementCount,
                        "a row view of shape \(viewShape) was reshaped to \(view.shape)")
                storage = view.storage
            }
            yield &view
        }
        set {
            checkRows(range)
            let viewShape = shape.replacingFirst(with: range.count)
            require(newValue.shape == viewShape,
                    "assigned a tensor of shape \(newValue.shape) to rows \(range) of shape \(viewShape)")
            makeUnique()
            (storage.base + offset + range.lowerBound * shape.rowStride)
                .update(from: newValue.storage.base + newValue.offset, count: viewShape.elementCount)
        }
    }

    /// Row `index` along the first axis (rank drops by one), sharing storage.
    @inlinable
    public subscript(row index: Int) -> Tensor {
        get {
            checkRows(index..<(index + 1))
            return Tensor(storage: storage, offset: offset + index * shape.rowStride, shape: shape.droppingFirst)
        }
        set {
            checkRows(index..<(index + 1))
            require(newValue.shape == shape.droppingFirst,
                    "assigned a tensor of shape \(newValue.shape) to a row of shape \(shape.droppingFirst)")
            makeUnique()
            (storage.base + offset + index * shape.rowStride)
                .update(from: newValue.storage.base + newValue.offset, count: shape.rowStride)
        }
    }

    @inlinable
    func checkRows(_ range: Range<Int>) {
        require(rank >= 1, "cannot slice rows of a scalar tensor")
        require(range.lowerBound >= 0 && range.upperBound <= shape[0],
                "rows \(range) are out of range for shape \(shape)")
    }

    /// The same elements under another shape with the same element count (a view, no copy).
    @inlinable
    public func reshaped(_ newShape: Shape) -> Tensor {
        require(newShape.elementCount == count,
                "cannot reshape a tensor of shape \(shape) (\(count) elements) to \(newShape) (\(newShape.elementCount) elements)")
        return Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// Reshapes in place (no copy).
    public mutating func reshape(to newShape: Shape) {
        require(newShape.elementCount == count,
                "cannot reshape a tensor of shape \(shape) (\(count) elements) to \(newShape) (\(newShape.elementCount) elements)")
        shape = newShape
    }

    /// True when both tensors are views of the same storage (writes to one show in the other).
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}

// MARK: - Filling and copying

extension Tensor {
    /// Sets every element to `value`.
    @inlinable
    public mutating func fill(with value: Float) {
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }

    /// Copies `source` (same element count) into this tensor's storage.
    @inlinable
    public mutating func copy(from source: Tensor) {
        require(source.count == count, "copy(from:) of shape \(source.shape) into shape \(shape)")
        let n = count
        source.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in dst.baseAddress!.update(from: src.baseAddress!, count: n) }
        }
    }
}

extension Tensor: Equatable {
    /// Same shape and bitwise-equal-valued elements (NaN != NaN).
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        return a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.elementsEqual(pb) } }
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}
