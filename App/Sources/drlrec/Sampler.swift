#if canImport(Glibc)
import Glibc
#endif
import DRLTensor

/// Repeated timing with medians: every figure of `drlrec bench` is the median over `samples`
/// samples, each lasting about `sampleSeconds`.
struct Sampler {
    let samples: Int
    let sampleSeconds: Double

    /// Median seconds per call.
    func median(_ body: () -> Void) -> Double {
        let reps = repetitions(body)
        var times: [Double] = []
        for _ in 0..<samples { times.append(timeSample(reps, body)) }
        return Self.median(times)
    }

    /// Median seconds per call of two bodies measured in alternation. At one thread the samples
    /// alternate one by one. With several threads they alternate in blocks of up to five samples,
    /// with a pause after each block of `second` (the direct OpenBLAS call): OpenBLAS's idle threads
    /// keep spinning for tens of milliseconds after a call and would otherwise take the cores that
    /// `first` needs.
    func interleaved(_ first: () -> Void, _ second: () -> Void) -> (Double, Double) {
        let reps = repetitions(first)
        var a: [Double] = [], b: [Double] = []
        let block = Engine.threadCount > 1 ? 5 : 1
        var round = 0
        while a.count < samples {
            let n = min(block, samples - a.count)
            // Alternate which one goes first so neither always follows the other.
            let firstGoesFirst = round % 2 == 0 || block > 1
            if firstGoesFirst { for _ in 0..<n { a.append(timeSample(reps, first)) } }
            for _ in 0..<n { b.append(timeSample(reps, second)) }
            if !firstGoesFirst { for _ in 0..<n { a.append(timeSample(reps, first)) } }
            if block > 1 { usleep(150_000) }
            round += 1
        }
        return (Self.median(a), Self.median(b))
    }

    /// Calls per sample so that a sample lasts about `sampleSeconds` (after a warm-up).
    func repetitions(_ body: () -> Void) -> Int {
        for _ in 0..<3 { body() }
        let once = timeSample(1, body)
        return max(1, Int(sampleSeconds / max(once, 1e-9)))
    }

    func timeSample(_ reps: Int, _ body: () -> Void) -> Double {
        let start = Self.now()
        for _ in 0..<reps { body() }
        return (Self.now() - start) / Double(reps)
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
