import Foundation

/// Requests per client, bounded: a token bucket per client (an API key, or the peer's address
/// without keys) that fills at `rate` tokens a second up to `burst`; a request takes a token or is
/// refused (429) with the seconds until the next one. At most `maximumClients` buckets are kept:
/// past it, the buckets of clients idle long enough to be full again are dropped (they would be
/// created full), then the least recently seen half; so a flood of new addresses costs bounded
/// memory, not the server.
public final class RateLimiter: @unchecked Sendable {
    public let rate: Double, burst: Double, maximumClients: Int
    private struct Bucket { var tokens: Double, updated: Double }
    private var buckets: [String: Bucket] = [:]
    private let lock = NSLock()
    private let clock: @Sendable () -> Double

    /// `clock` is in seconds (the system's monotonic clock unless a test gives another).
    public init(rate: Double, burst: Double, maximumClients: Int = 100_000,
                clock: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }) {
        precondition(rate > 0 && burst >= 1 && maximumClients > 0, "RateLimiter: rate > 0, burst ≥ 1, maximumClients > 0")
        (self.rate, self.burst, self.maximumClients, self.clock) = (rate, burst, maximumClients, clock)
    }

    /// Takes a token for `client`: nil when the request may go on, else the seconds to wait.
    public func take(_ client: String) -> Double? {
        let now = clock()
        return lock.withLock {
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            let wait: Double?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                wait = nil
            } else {
                wait = (1 - bucket.tokens) / rate
            }
            buckets[client] = bucket
            if buckets.count > maximumClients { evict(now) }
            return wait
        }
    }

    /// The number of clients with a bucket.
    public var clients: Int { lock.withLock { buckets.count } }

    private func evict(_ now: Double) {
        let refill = burst / rate
        buckets = buckets.filter { now - $0.value.updated < refill }
        guard buckets.count > maximumClients / 2 else { return }
        let kept = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(maximumClients / 2)
        buckets = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
    }
}
