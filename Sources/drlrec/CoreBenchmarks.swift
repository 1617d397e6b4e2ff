import CBLASShim
import DRLTensor

#if canImport(Glibc)
import Glibc
#endif

/// One measured quantity of `drlrec bench core`.
struct BenchResult {
    let name: String
    let value: Double
    let unit: String
    /// For matmuls: GFLOP/s of the direct cblas_sgemm call measured alongside.
    var rawGFLOPS: Double? = nil
    /// For elementwise kernels: billions of elements per second.
    var gelemPerSecond: Double? = nil
    /// For matmuls: the rate as a fraction of the measured FMA peak of the threads used.
    var peakFraction: Double? = nil

    func jsonLine(threads: Int) -> String {
        var fields: [(String, JSONLine.Value)] = [
            ("name", .string(name)), ("threads", .int(threads)), ("value", .double(rounded(value))), ("unit", .string(unit)),
        ]
        if let raw = rawGFLOPS {
            fields.append(("raw_gflops", .double(rounded(raw))))
            fields.append(("ratio", .double(rounded(value / raw, places: 4))))
        }
        if let g = gelemPerSecond { fields.append(("gelem_per_s", .double(rounded(g, places: 3)))) }
        if let p = peakFraction { fields.append(("peak_fraction", .double(rounded(p, places: 3)))) }
        return JSONLine(fields).text
    }

    func tableLine(threads: Int) -> String {
        let shown = format3(value, places: unit == "ms" ? 3 : 1)
        var line = pad(name, 28) + " threads \(threads)  " + pad(shown + " " + unit, 18)
        if let raw = rawGFLOPS { line += "  cblas \(format3(raw)) GFLOP/s  ratio \(format3(value / raw, places: 3))" }
        if let g = gelemPerSecond { line += "  \(format3(g, places: 2)) Gelem/s" }
        if let p = peakFraction { line += "  \(format3(p * 100, places: 0))% of peak" }
        return line
    }

    private func rounded(_ x: Double, places: Int = 3) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (x * scale).rounded() / scale
    }
    private func format3(_ x: Double, places: Int = 1) -> String { String(rounded(x, places: places)) }
    private func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
}

/// The measurements behind `drlrec bench core`: each one is the median over `samples` timed samples,
/// and a matmul's Tensor-level and direct-cblas samples alternate so that both see the same
/// machine state.
struct CoreBenchmarks {
    static let gemmShapes: [(m: Int, k: Int, n: Int)] = [
        (256, 256, 256), (512, 512, 512), (1024, 256, 256), (1024, 512, 1682), (1920, 64, 64),
    ]

    let samples: Int
    let sampleSeconds: Double

    /// All measurements at the engine's current thread count; `peak` is one core's FMA peak.
    func runAll(peak: Double?) -> [BenchResult] {
        var results = Self.gemmShapes.map { gemm(m: $0.m, k: $0.k, n: $0.n) }
        if let peak {
            let threads = Double(Engine.threadCount)
            for i in results.indices { results[i].peakFraction = results[i].value / (peak * threads) }
        }
        results.append(contentsOf: kernels())
        return results
    }

    func gemm(m: Int, k: Int, n: Int) -> BenchResult {
        var rng = RandomGenerator(seed: 7)
        let a = Tensor.uniform(Shape(m, k), -1, 1, using: &rng)
        let b = Tensor.uniform(Shape(k, n), -1, 1, using: &rng)
        var c = Tensor(zeros: Shape(m, n))
        var raw = Tensor(zeros: Shape(m, n))
        let pa = a.withUnsafeBufferPointer { $0.baseAddress! }
        let pb = b.withUnsafeBufferPointer { $0.baseAddress! }
        let pc = raw.withUnsafeMutableBufferPointer { $0.baseAddress! }
        // The direct call uses OpenBLAS's own threads, as a program calling OpenBLAS would; DRLRec
        // keeps OpenBLAS at one thread and splits products over its own pool.
        let threads = Int32(Engine.threadCount)
        let direct = {
            openblas_set_num_threads(threads)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, pa, Int32(k),
                        pb, Int32(n), 0, pc, Int32(n))
            openblas_set_num_threads(1)
        }
        let viaTensor = { matmul(a, b, into: &c) }
        let (tensorTime, directTime) = withExtendedLifetime((a, b, raw)) { interleaved(viaTensor, direct) }
        let flop = 2.0 * Double(m) * Double(n) * Double(k)
        return BenchResult(name: "matmul_\(m)x\(k)x\(n)", value: flop / tensorTime / 1e9, unit: "GFLOP/s",
                           rawGFLOPS: flop / directTime / 1e9)
    }

    func kernels() -> [BenchResult] {
        var rng = RandomGenerator(seed: 11)
        var results: [BenchResult] = []

        let logits = Tensor.uniform(Shape(4096, 1682), -8, 8, using: &rng)
        var probabilities = Tensor(zeros: logits.shape)
        let softmaxTime = median { softmax(logits, into: &probabilities) }
        results.append(BenchResult(name: "softmax_4096x1682", value: softmaxTime * 1e3, unit: "ms",
                                   gelemPerSecond: Double(logits.count) / softmaxTime / 1e9))

        let x = Tensor.uniform(Shape(1 << 20), -6, 6, using: &rng)
        var y = Tensor(zeros: x.shape)
        let geluTime = median { Activation.gelu.forward(x, into: &y) }
        results.append(BenchResult(name: "gelu_1M", value: geluTime * 1e3, unit: "ms",
                                   gelemPerSecond: Double(x.count) / geluTime / 1e9))

        let h = Tensor.uniform(Shape(4096, 256), -3, 3, using: &rng)
        let gamma = Tensor.uniform(Shape(256), 0.5, 1.5, using: &rng)
        let beta = Tensor.uniform(Shape(256), -0.5, 0.5, using: &rng)
        var normalized = Tensor(zeros: h.shape)
        var mean = Tensor(zeros: Shape(4096)), rstd = Tensor(zeros: Shape(4096))
        let layerNormTime = median {
            layerNorm(h, gamma: gamma, beta: beta, into: &normalized, mean: &mean, rstd: &rstd)
        }
        results.append(BenchResult(name: "layernorm_4096x256", value: layerNormTime * 1e3, unit: "ms",
                                   gelemPerSecond: Double(h.count) / layerNormTime / 1e9))
        return results
    }

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
