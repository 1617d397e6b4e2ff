// The kernels of `drlrec bench core` under package-benchmark: GEMM through Tensor `matmul` and
// through a direct `cblas_sgemm` call on the same buffers, and the softmax, GELU and LayerNorm
// kernels in their `into:` and in-place forms.
//
// Every tensor is allocated in a benchmark's `setup` closure, never in the measured region, so
// `mallocCountTotal` shows what the kernel itself allocates: 0 for all of them at 1 thread.

import Benchmark
import CBLASShim
import DRLTensor

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Floating-point operations per second of the measured call (2·M·N·K per GEMM).
let flopsPerSecond = BenchmarkMetric.custom("FLOP/s", polarity: .prefersLarger, useScalingFactor: false)
/// Elements processed per second (the input's element count per call).
let elementsPerSecond = BenchmarkMetric.custom("elements/s", polarity: .prefersLarger, useScalingFactor: false)

let gemmShapes: [(m: Int, k: Int, n: Int)] = [
    (256, 256, 256), (512, 512, 512), (1024, 256, 256), (1024, 512, 1682), (1920, 64, 64),
]

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
        for shape in gemmShapes {
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

/// Operands for one GEMM shape; `c` receives the Tensor-level product, `raw` the direct cblas one.
final class MatmulFixture {
    let m: Int, k: Int, n: Int
    var a: Tensor
    var b: Tensor
    var c: Tensor
    var raw: Tensor

    init(m: Int, k: Int, n: Int) {
        self.m = m
        self.k = k
        self.n = n
        var rng = RandomGenerator(seed: 7)
        a = Tensor.uniform(Shape(m, k), -1, 1, using: &rng)
        b = Tensor.uniform(Shape(k, n), -1, 1, using: &rng)
        c = Tensor(zeros: Shape(m, n))
        raw = Tensor(zeros: Shape(m, n))
    }
}

func registerMatmul(m: Int, k: Int, n: Int, threads: Int) {
    let flop = 2.0 * Double(m) * Double(n) * Double(k)
    var config = Benchmark.defaultConfiguration
    config.metrics.append(flopsPerSecond)
    let suffix = "\(m)x\(k)x\(n) t\(threads)"

    var tensorFixture: MatmulFixture?
    Benchmark("matmul.tensor \(suffix)", configuration: config) { benchmark in
        let f = tensorFixture!
        measure(benchmark, work: flop, metric: flopsPerSecond) {
            matmul(f.a, f.b, into: &f.c)
        }
        blackHole(f.c)
    } setup: {
        Engine.setThreadCount(threads)
        tensorFixture = MatmulFixture(m: m, k: k, n: n)
    } teardown: {
        tensorFixture = nil
        Engine.setThreadCount(1)
    }

    var cblasFixture: MatmulFixture?
    Benchmark("matmul.cblas \(suffix)", configuration: config) { benchmark in
        let f = cblasFixture!
        f.a.withUnsafeBufferPointer { pa in
            f.b.withUnsafeBufferPointer { pb in
                f.raw.withUnsafeMutableBufferPointer { pc in
                    measure(benchmark, work: flop, metric: flopsPerSecond) {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                                    pa.baseAddress, Int32(k), pb.baseAddress, Int32(n), 0, pc.baseAddress, Int32(n))
                    }
                }
            }
        }
        blackHole(f.raw)
    } setup: {
        // A program calling OpenBLAS directly uses OpenBLAS's own threads; DRLRec keeps OpenBLAS at
        // one thread and splits products over its own pool.
        Engine.setThreadCount(1)
        openblas_set_num_threads(Int32(threads))
        cblasFixture = MatmulFixture(m: m, k: k, n: n)
    } teardown: {
        cblasFixture = nil
        openblas_set_num_threads(1)
    }
}

// MARK: - Softmax, GELU, LayerNorm

/// Inputs and preallocated outputs of the elementwise and row kernels (same data as `drlrec bench core`).
final class KernelFixture {
    // softmax over [4096, 1682]
    let logits: Tensor
    var probabilities: Tensor
    var softmaxWork: Tensor
    // GELU over 1M floats
    let x: Tensor
    var y: Tensor
    var geluWork: Tensor
    // LayerNorm over [4096, 256]
    let h: Tensor
    let gamma: Tensor
    let beta: Tensor
    var normalized: Tensor
    var mean: Tensor
    var rstd: Tensor

    init() {
        var rng = RandomGenerator(seed: 11)
        logits = Tensor.uniform(Shape(4096, 1682), -8, 8, using: &rng)
        probabilities = Tensor(zeros: logits.shape)
        softmaxWork = Tensor(zeros: logits.shape)
        x = Tensor.uniform(Shape(1 << 20), -6, 6, using: &rng)
        y = Tensor(zeros: x.shape)
        geluWork = Tensor(zeros: x.shape)
        h = Tensor.uniform(Shape(4096, 256), -3, 3, using: &rng)
        gamma = Tensor.uniform(Shape(256), 0.5, 1.5, using: &rng)
        beta = Tensor.uniform(Shape(256), -0.5, 0.5, using: &rng)
        normalized = Tensor(zeros: h.shape)
        mean = Tensor(zeros: Shape(4096))
        rstd = Tensor(zeros: Shape(4096))
    }
}

func registerKernels() {
    var config = Benchmark.defaultConfiguration
    config.metrics.append(elementsPerSecond)

    // One fixture shared by the kernel benchmarks, built by the first setup that needs it.
    var shared: KernelFixture?
    let prepare = { (threads: Int) in
        Engine.setThreadCount(threads)
        if shared == nil { shared = KernelFixture() }
    }

    for threads in [1, 2] {
        Benchmark("softmax.into 4096x1682 t\(threads)", configuration: config) { benchmark in
            let f = shared!
            measure(benchmark, work: Double(f.logits.count), metric: elementsPerSecond) {
                softmax(f.logits, into: &f.probabilities)
            }
            blackHole(f.probabilities)
        } setup: {
            prepare(threads)
        }
    }

    // In-place forms overwrite their input, so each iteration restores it from the pristine
    // tensor before startMeasurement(): repeated GELU would otherwise drive values into denormals.
    Benchmark("softmax.inPlace 4096x1682", configuration: config) { benchmark in
        let f = shared!
        f.softmaxWork.copy(from: f.logits)
        benchmark.startMeasurement()
        measure(benchmark, work: Double(f.softmaxWork.count), metric: elementsPerSecond) {
            softmaxInPlace(&f.softmaxWork)
        }
        blackHole(f.softmaxWork)
    } setup: {
        prepare(1)
    }

    for threads in [1, 2] {
        Benchmark("gelu.into 1M t\(threads)", configuration: config) { benchmark in
            let f = shared!
            measure(benchmark, work: Double(f.x.count), metric: elementsPerSecond) {
                Activation.gelu.forward(f.x, into: &f.y)
            }
            blackHole(f.y)
        } setup: {
            prepare(threads)
        }
    }

    Benchmark("gelu.inPlace 1M", configuration: config) { benchmark in
        let f = shared!
        f.geluWork.copy(from: f.x)
        benchmark.startMeasurement()
        measure(benchmark, work: Double(f.geluWork.count), metric: elementsPerSecond) {
            Activation.gelu.forwardInPlace(&f.geluWork)
        }
        blackHole(f.geluWork)
    } setup: {
        prepare(1)
    }

    for threads in [1, 2] {
        Benchmark("layerNorm.into 4096x256 t\(threads)", configuration: config) { benchmark in
            let f = shared!
            measure(benchmark, work: Double(f.h.count), metric: elementsPerSecond) {
                layerNorm(f.h, gamma: f.gamma, beta: f.beta, into: &f.normalized, mean: &f.mean, rstd: &f.rstd)
            }
            blackHole(f.normalized)
        } setup: {
            prepare(threads)
        }
    }
}
