/// The processes that train one model together, data-parallel: every process (rank) holds the
/// whole model, trains on its own share of each batch, and the ranks sum their gradients before
/// every update, so that each takes the same step and the parameters stay identical everywhere.
///
/// `SingleProcess` is the group of one that training uses by default; `OpenMPIGroup` is the group
/// of the processes `mpirun` started.
public protocol ProcessGroup: AnyObject {
    /// This process's index in the group, 0 ..< `size`.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` on every rank by their sum over the ranks (element by element); each rank
    /// gets the same bits.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(ProcessGroupError)
    /// The same at double precision.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(ProcessGroupError)
    /// The smallest and the largest of every rank's `value`.
    func allReduceRange(_ value: UInt64) throws(ProcessGroupError) -> ClosedRange<UInt64>
}

extension ProcessGroup {
    /// Whether this process is the one that writes and prints (rank 0).
    public var isLeader: Bool { rank == 0 }

    /// Returns when every rank has called it (say, once the leader has written a file the others read).
    public func barrier() throws(ProcessGroupError) {
        _ = try allReduceRange(0)
    }
}

/// A collective operation that failed, with the library's own message.
public struct ProcessGroupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The group of one process: every collective is the identity.
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(ProcessGroupError) {}
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(ProcessGroupError) {}
    public func allReduceRange(_ value: UInt64) throws(ProcessGroupError) -> ClosedRange<UInt64> { value...value }
}
