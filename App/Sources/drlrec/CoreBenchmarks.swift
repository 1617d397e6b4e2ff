import CBLASShim
import DRLTensor

#if canImport(Glibc)
import Glibc
#endif

/// The measurements behind `drlrec bench core`: each one is the median over `samples` timed samples,
/// and a matmul's Tensor-level and direct-cblas samples alternate so that both see the same
/// machine state.
struct CoreBenchmarks {
    static let gemmShapes: [(m: Int, k: Int, n: Int)] = [
        (256, 256, 256), (512, 512, 512), (1024, 256, 256), (1024, 512, 1682), (1920, 64, 64),
    ]

    /// The products of one GRU step (batch 256, hidden 64) as the layer makes them, through `gemm`
    /// in small-matrix blocks, against one direct cblas call each: the step's input and recurrent
    /// projections, x·Wᵀ with W transposed in one call, are x·(Wᵀ) untransposed in blocks; the
    /// gradients reaching dh (beta 1) and dX (beta 0) are dG·W; the weight gradients accumulate dGᵀ·x.
    /// Then the transformer block's weight gradients over its 7,680 rows (256 × 30), dW += dYᵀ·X
    /// for the fused QKV (192 × 64) and the FFN's second layer (64 × 256), as Linear makes them:
    /// small-matrix calls in OpenBLAS's blocks of the inner dimension, the bits of one call.
    static let blockedProducts: [(name: String, m: Int, k: Int, n: Int, transposeA: Bool, transposedBefore: Bool, beta: Float, blocking: GemmBlocking)] = [
        ("gru_step_projection", 256, 64, 192, false, true, 0, .smallCalls),
        ("gru_step_state_gradient", 256, 192, 64, false, false, 1, .smallCalls),
        ("gru_step_input_gradient", 256, 192, 64, false, false, 0, .smallCalls),
        ("gru_step_weight_gradient", 192, 256, 64, true, false, 1, .smallRowsOrInner),
        ("block_qkv_weight_gradient", 192, 7680, 64, true, false, 1, .smallCalls),
        ("block_ffn_out_weight_gradient", 64, 7680, 256, true, false, 1, .smallCalls),
    ]

    let sampler: Sampler

    /// All measurements at the engine's current thread count; `peak` is one core's FMA peak.
    func runAll(peak: Double?) -> [BenchResult] {
        var results = Self.gemmShapes.map { gemm(m: $0.m, k: $0.k, n: $0.n) }
        results.append(contentsOf: Self.blockedProducts.map(blockedProduct))
        if let peak {
            let threads = Double(Engine.threadCount)
            for i in results.indices { results[i].peakFraction = results[i].value / (peak * threads) }
        }
        results.append(contentsOf: kernels())
        return results
    }

    func blockedProduct(_ p: (name: String, m: Int, k: Int, n: Int, transposeA: Bool, transposedBefore: Bool, beta: Float, blocking: GemmBlocking)) -> BenchResult {
        var rng = RandomGenerator(seed: 13)
        let a = Tensor.uniform(p.transposeA ? Shape(p.k, p.m) : Shape(p.m, p.k), -1, 1, using: &rng)
        let b = Tensor.uniform(Shape(p.k, p.n), -1, 1, using: &rng)
        var before = b
        if p.transposedBefore {
            before = Tensor(zeros: Shape(p.n, p.k))
            transpose(b, into: &before)
        }
        var c = Tensor(zeros: Shape(p.m, p.n)), raw = Tensor(zeros: Shape(p.m, p.n))
        let pa = a.withUnsafeBufferPointer { $0.baseAddress! }, pb = before.withUnsafeBufferPointer { $0.baseAddress! }
        let pc = raw.withUnsafeMutableBufferPointer { $0.baseAddress! }
        let threads = Int32(Engine.threadCount)
        let direct = {
            openblas_set_num_threads(threads)
            cblas_sgemm(CblasRowMajor, p.transposeA ? CblasTrans : CblasNoTrans, p.transposedBefore ? CblasTrans : CblasNoTrans,
                        Int32(p.m), Int32(p.n), Int32(p.k), 1, pa, Int32(p.transposeA ? p.m : p.k), pb, Int32(p.transposedBefore ? p.k : p.n),
                        p.beta, pc, Int32(p.n))
            openblas_set_num_threads(1)
        }
        let blocked = { DRLTensor.gemm(a, b, into: &c, transposeA: p.transposeA, beta: p.beta, blocking: p.blocking) }
        let (blockedTime, directTime) = withExtendedLifetime((a, b, before, raw)) { sampler.interleaved(blocked, direct) }
        let flop = 2.0 * Double(p.m) * Double(p.n) * Double(p.k)
        return BenchResult(name: "\(p.name)_\(p.m)x\(p.k)x\(p.n)_blocks", value: flop / blockedTime / 1e9, unit: "GFLOP/s",
                           rawGFLOPS: flop / directTime / 1e9)
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
        let (tensorTime, directTime) = withExtendedLifetime((a, b, raw)) { sampler.interleaved(viaTensor, direct) }
        let flop = 2.0 * Double(m) * Double(n) * Double(k)
        return BenchResult(name: "matmul_\(m)x\(k)x\(n)", value: flop / tensorTime / 1e9, unit: "GFLOP/s",
                           rawGFLOPS: flop / directTime / 1e9)
    }

    func kernels() -> [BenchResult] {
        var rng = RandomGenerator(seed: 11)
        var results: [BenchResult] = []

        let logits = Tensor.uniform(Shape(4096, 1682), -8, 8, using: &rng)
        var probabilities = Tensor(zeros: logits.shape)
        let softmaxTime = sampler.median { softmax(logits, into: &probabilities) }
        results.append(BenchResult(name: "softmax_4096x1682", value: softmaxTime * 1e3, unit: "ms",
                                   gelemPerSecond: Double(logits.count) / softmaxTime / 1e9))

        let x = Tensor.uniform(Shape(1 << 20), -6, 6, using: &rng)
        var y = Tensor(zeros: x.shape)
        let geluTime = sampler.median { Activation.gelu.forward(x, into: &y) }
        results.append(BenchResult(name: "gelu_1M", value: geluTime * 1e3, unit: "ms",
                                   gelemPerSecond: Double(x.count) / geluTime / 1e9))

        let h = Tensor.uniform(Shape(4096, 256), -3, 3, using: &rng)
        let gamma = Tensor.uniform(Shape(256), 0.5, 1.5, using: &rng)
        let beta = Tensor.uniform(Shape(256), -0.5, 0.5, using: &rng)
        var normalized = Tensor(zeros: h.shape)
        var mean = Tensor(zeros: Shape(4096)), rstd = Tensor(zeros: Shape(4096))
        let layerNormTime = sampler.median {
            layerNorm(h, gamma: gamma, beta: beta, into: &normalized, mean: &mean, rstd: &rstd)
        }
        results.append(BenchResult(name: "layernorm_4096x256", value: layerNormTime * 1e3, unit: "ms",
                                   gelemPerSecond: Double(h.count) / layerNormTime / 1e9))

        // Top-k as the recommenders use it: a slate builder's 200 candidates from a 10,000-item
        // catalogue, and full-ranking evaluation's top 10 of 1,682 movies for each of 943 users.
        for (rows, cols, k) in [(1, 10_000, 200), (943, 1682, 10)] {
            let scores = Tensor.uniform(Shape(rows, cols), -1, 1, using: &rng)
            var values = Tensor(zeros: Shape(rows, k))
            var indices = [Int32](repeating: 0, count: rows * k)
            let time = sampler.median { topK(scores, k: k, values: &values, indices: &indices) }
            results.append(BenchResult(name: "topk_\(rows)x\(cols)_k\(k)", value: time * 1e3, unit: "ms",
                                       gelemPerSecond: Double(scores.count) / time / 1e9))
        }
        return results
    }
}
