// The products and kernels of `drlrec bench core` (DRLWorkloads) under package-benchmark: GEMM
// through Tensor `matmul` and through a direct `cblas_sgemm` call, and the softmax, GELU and
// LayerNorm kernels in their `into:` and in-place forms.
//
// Every tensor is allocated in a benchmark's `setup` closure, never in the measured region, so
// `mallocCountTotal` shows what the kernel itself allocates: 0 for all of them at 1 thread.

import Benchmark
import DRLTensor
import DRLWorkloads

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Floating-point operations per second of the measured call (2·M·N·K per GEMM).
let flopsPerSecond = BenchmarkMetric.custom("FLOP/s", polarity: .prefersLarger, useScalingFactor: false)
/// Elements processed per second (the input's element count per call).
let elementsPerSecond = BenchmarkMetric.custom("elements/s", polarity: .prefersLarger, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    // One thread, and OpenBLAS switched to the fastest kernel for this CPU (in-process).
    let info = Engine.configure(threads: 1)
    if getenv("DRLREC_BENCH_INFO") != nil {
        let text = "\(info)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    // Memory is measured by the malloc interposer (count and bytes requested). peakMemoryResident
    // is left out on purpose: on Linux it makes the framework read /proc inside every measured
    // region, which adds 16-24 mallocs (~35-53 KB) of its own to each sample.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .mallocBytesCount],
        warmupIterations: 3,
        maxDuration: .seconds(1),
        maxIterations: 10_000
    )

    for threads in [1, 2] {
        for shape in ProductWorkload.gemmShapes {
            registerMatmul(m: shape.m, k: shape.k, n: shape.n, threads: threads)
        }
    }
    registerKernels()
}

// MARK: - Measurement helpers

@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

/// Runs `body` once per scaled iteration, ends the measured region and records `work` units per
/// call as a rate (units/s) under `metric`. `startMeasurement()`, when wanted, is called before.
@inline(__always)
func measure(_ benchmark: Benchmark, work: Double, metric: BenchmarkMetric, _ body: () -> Void) {
    let start = monotonicNanoseconds()
    for _ in benchmark.scaledIterations {
        body()
    }
    let elapsed = monotonicNanoseconds() - start
    benchmark.stopMeasurement()
    let calls = Double(benchmark.scaledIterations.count)
    benchmark.measurement(metric, Int((work * calls * 1e9 / Double(max(elapsed, 1))).rounded()))
}

// MARK: - GEMM

/// `matmul.tensor` times the product through DRLTensor, `matmul.cblas` the direct call on
/// OpenBLAS's own threads, as a program calling OpenBLAS would make it.
func registerMatmul(m: Int, k: Int, n: Int, threads: Int) {
    var config = Benchmark.defaultConfiguration
    config.metrics.append(flopsPerSecond)
    for direct in [false, true] {
        var timed: (flop: Double, call: () -> Void)?
        Benchmark("matmul.\(direct ? "cblas" : "tensor") \(m)x\(k)x\(n) t\(threads)", configuration: config) { benchmark in
            let t = timed!
            measure(benchmark, work: t.flop, metric: flopsPerSecond, t.call)
        } setup: {
            Engine.setThreadCount(threads)
            let workload = ProductWorkload.matmul(m: m, k: k, n: n, directThreads: threads)
            timed = (workload.flop, direct ? workload.direct : workload.viaTensor)
        } teardown: {
            timed = nil
            Engine.setThreadCount(1)
        }
    }
}

// MARK: - Softmax, GELU, LayerNorm

func registerKernels() {
    var config = Benchmark.defaultConfiguration
    config.metrics.append(elementsPerSecond)

    // One set of inputs shared by the kernel benchmarks, built by the first setup that needs it.
    var shared: KernelWorkloads?
    let prepare = { (threads: Int) -> KernelWorkloads in
        Engine.setThreadCount(threads)
        if shared == nil { shared = KernelWorkloads() }
        return shared!
    }
    func register(_ name: String, threads: Int, _ make: @escaping (KernelWorkloads) -> KernelWorkload) {
        var workload: KernelWorkload?
        Benchmark(name, configuration: config) { benchmark in
            let w = workload!
            // An in-place form overwrites its input: restore it outside the measured region.
            if let restore = w.restore {
                restore()
                benchmark.startMeasurement()
            }
            measure(benchmark, work: Double(w.elements), metric: elementsPerSecond, w.step)
        } setup: {
            workload = make(prepare(threads))
        } teardown: {
            workload = nil
        }
    }

    for threads in [1, 2] {
        register("softmax.into 4096x1682 t\(threads)", threads: threads) { $0.softmax }
    }
    register("softmax.inPlace 4096x1682", threads: 1) { $0.softmaxInPlace() }
    for threads in [1, 2] {
        register("gelu.into 1M t\(threads)", threads: threads) { $0.gelu }
    }
    register("gelu.inPlace 1M", threads: 1) { $0.geluInPlace() }
    for threads in [1, 2] {
        register("layerNorm.into 4096x256 t\(threads)", threads: threads) { $0.layerNorm }
    }
}
