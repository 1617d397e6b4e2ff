import Dispatch

/// Splits work over the engine's threads when it is large enough to repay the hand-off
/// (a few microseconds); small calls run inline on the calling thread.
@usableFromInline
enum Parallel {
    /// Below this many units of work (about one element of an exp-class kernel each) a call runs
    /// on the calling thread.
    @usableFromInline static let minimumWork = 1 << 16

    /// Calls `body` on disjoint chunks covering `0..<count`; `workPerItem` estimates the cost of one
    /// item in elements; `threaded: false` keeps the call on the calling thread.
    @inlinable
    static func forChunks(count: Int, workPerItem: Int, threaded: Bool = true, _ body: (Range<Int>) -> Void) {
        let threads = Engine.threadCount
        if !threaded || threads <= 1 || count < 2 || count * max(workPerItem, 1) < minimumWork {
            body(0..<count)
            return
        }
        let chunks = min(threads, count)
        // The chunks are disjoint and concurrentPerform returns only when all have run, so handing
        // the non-Sendable body to the worker threads is safe.
        withoutActuallyEscaping(body) { body in
            let work = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                work.value(count * chunk / chunks..<count * (chunk + 1) / chunks)
            }
        }
    }
}

@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @inlinable init(_ value: Value) { self.value = value }
}
