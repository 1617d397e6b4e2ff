/// A contiguous, 64-byte-aligned block of Float32 owned by one or more tensors.
///
/// Ordinary storage is copied on write when shared. Workspace storage (`sharesWrites`) never is:
/// every tensor viewing it reads and writes the same memory. Models use it for parameters,
/// gradients and activation buffers, which layers and optimizers update in place through views.
public final class TensorStorage: @unchecked Sendable {
    /// Alignment of every allocation, in bytes: one cache line and one AVX-512 register.
    public static let alignment = 64

    @usableFromInline let base: UnsafeMutablePointer<Float>
    @usableFromInline let capacity: Int
    /// True for workspace storage: writes through any view are seen by all views (no copy on write).
    @usableFromInline let sharesWrites: Bool

    /// Allocates `capacity` floats, zero-filled.
    @usableFromInline
    init(capacity: Int, sharesWrites: Bool = false) {
        require(capacity >= 0, "negative tensor capacity \(capacity)")
        self.capacity = capacity
        self.sharesWrites = sharesWrites
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(capacity, 1) * MemoryLayout<Float>.stride,
                                                   alignment: TensorStorage.alignment)
        base = raw.bindMemory(to: Float.self, capacity: max(capacity, 1))
        base.initialize(repeating: 0, count: max(capacity, 1))
    }

    /// Allocates a copy of `count` floats starting at `source`.
    @usableFromInline
    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(capacity: count)
        base.update(from: source, count: count)
    }

    deinit { base.deallocate() }

    /// Shared empty storage: lets in-place view mutation move a tensor's storage out without allocating.
    @usableFromInline static let empty = TensorStorage(capacity: 0)
}
