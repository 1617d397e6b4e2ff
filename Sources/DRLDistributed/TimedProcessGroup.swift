/// A process group that keeps the time its collectives took, waiting for the other ranks
/// included: what data-parallel training loses to communication and to its slowest rank.
public final class TimedProcessGroup: ProcessGroup {
    public let group: ProcessGroup
    /// Seconds spent in collectives so far.
    public private(set) var seconds = 0.0

    public init(_ group: ProcessGroup) { self.group = group }

    public var rank: Int { group.rank }
    public var size: Int { group.size }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(ProcessGroupError) {
        try timed { () throws(ProcessGroupError) in try group.allReduceSum(values) }
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(ProcessGroupError) {
        try timed { () throws(ProcessGroupError) in try group.allReduceSum(values) }
    }

    public func allReduceRange(_ value: UInt64) throws(ProcessGroupError) -> ClosedRange<UInt64> {
        try timed { () throws(ProcessGroupError) in try group.allReduceRange(value) }
    }

    private func timed<T>(_ body: () throws(ProcessGroupError) -> T) throws(ProcessGroupError) -> T {
        let start = ContinuousClock.now
        defer { seconds += Double((ContinuousClock.now - start) / .nanoseconds(1)) / 1e9 }
        return try body()
    }
}
