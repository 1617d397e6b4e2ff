import Foundation

/// A logical clock for a service and the traffic that drives it: every reading is one tick after
/// the last, so that in the logs every list and every feedback has its own time, in the order
/// they happened (what an off-policy replay of the logs orders by).
public final class TickClock: @unchecked Sendable {
    private let lock = NSLock()
    private var last: Int64

    public init(after start: Int64 = 0) { last = start }

    public func tick() -> Int64 { lock.withLock { last += 1; return last } }
}
