// The NN workloads of `drlrec bench nn` (DRLWorkloads: the peer workloads of
// ../shared/PERFORMANCE.md and the LSTM) under package-benchmark, each at 1 and 2 threads, with
// malloc counts of a steady-state step (models and data are built in setup, outside the measured
// region).

import Benchmark
import DRLTensor
import DRLWorkloads

/// Samples (batch rows) processed per second.
let samplesPerSecond = BenchmarkMetric.custom("samples/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Engine.configure(threads: 1)
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .mallocBytesCount, samplesPerSecond],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )
    for threads in [1, 2] {
        for kind in NNWorkload.Kind.allCases {
            register(kind, threads: threads)
        }
    }
}

func register(_ kind: NNWorkload.Kind, threads: Int) {
    var workload: NNWorkload?
    Benchmark("\(kind.rawValue) t\(threads)") { benchmark in
        let w = workload!
        let start = ContinuousClock.now
        for _ in benchmark.scaledIterations { w.step() }
        let elapsed = ContinuousClock.now - start
        benchmark.stopMeasurement()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        benchmark.measurement(samplesPerSecond, Int(Double(w.batch * benchmark.scaledIterations.count) / max(seconds, 1e-9)))
    } setup: {
        Engine.setThreadCount(threads)
        workload = NNWorkload(kind)
        workload!.step()  // grow every buffer before the measured region
    } teardown: {
        workload = nil
    }
}
