import Foundation

/// Lets a snapshot see the service between requests: the work that appends to a log and then
/// applies the event to memory runs inside `enter`/`leave`, and `close` waits until no such work
/// is under way and holds new work back until `reopen`. What the snapshot then copies is exactly
/// what the logs hold up to their ends. Closers take turns: a second `close` waits for the first
/// `reopen` and takes the gate over still closed.
final class QuiescenceGate: @unchecked Sendable {
    private let lock = NSLock()
    private var active = 0
    private var closed = false
    private var heldBack: [CheckedContinuation<Void, Never>] = []
    private var closers: [CheckedContinuation<Void, Never>] = []
    private var drained: CheckedContinuation<Void, Never>?

    func enter() async {
        let entered = lock.withLock { () -> Bool in
            guard !closed else { return false }
            active += 1
            return true
        }
        if entered { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if closed {
                heldBack.append(continuation)  // counted as active by `reopen`
                lock.unlock()
            } else {
                active += 1
                lock.unlock()
                continuation.resume()
            }
        }
    }

    func leave() {
        lock.lock()
        active -= 1
        let waiting = active == 0 ? drained : nil
        if waiting != nil { drained = nil }
        lock.unlock()
        waiting?.resume()
    }

    /// Returns once no work is inside, with new work held back.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if closed {
                closers.append(continuation)
                lock.unlock()
            } else if active == 0 {
                closed = true
                lock.unlock()
                continuation.resume()
            } else {
                closed = true
                drained = continuation
                lock.unlock()
            }
        }
    }

    func reopen() {
        lock.lock()
        if !closers.isEmpty {
            let next = closers.removeFirst()  // nothing is inside: the gate passes on closed
            lock.unlock()
            next.resume()
            return
        }
        closed = false
        let waiting = heldBack
        heldBack = []
        active += waiting.count
        lock.unlock()
        for continuation in waiting { continuation.resume() }
    }
}
