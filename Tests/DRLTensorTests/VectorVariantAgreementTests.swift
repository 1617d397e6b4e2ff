import CDRLKernels
import DRLTensor
import Testing

/// The AVX2 and AVX-512 variants of DRLRec's vector kernels compute the same bits: the same lanes,
/// the same order of every sum, the same fused multiply-adds. That is what lets a network trained
/// on one CPU be trained again to the byte on the other (with the same OpenBLAS kernel). Each
/// kernel runs on lengths around and between the vector widths, under both variants, and every
/// output is compared bit for bit. Needs a CPU that runs both.
@Suite(.serialized, .enabled(if: drl_cpu_has_avx512_core() != 0, "needs a CPU with AVX-512 to run both variants"))
struct VectorVariantAgreementTests {
    static let lengths = [1, 5, 8, 15, 16, 17, 24, 31, 33, 48, 63, 65, 100, 1027]

    /// The outputs `body` writes, under the AVX2 variant and then the AVX-512 one.
    func bothVariants(_ body: () -> [[Float]]) -> (avx2: [[Float]], avx512: [[Float]]) {
        #expect(drl_kernel_force_isa(1) == 1)
        let avx2 = body()
        #expect(drl_kernel_force_isa(2) == 2)
        let avx512 = body()
        _ = drl_kernel_force_isa(-1)
        return (avx2, avx512)
    }

    func expectSameBits(_ name: String, _ n: Int, _ body: () -> [[Float]]) {
        let (a, b) = bothVariants(body)
        for (k, (x, y)) in zip(a, b).enumerated() {
            #expect(x.count == y.count)
            let first = x.indices.first { x[$0].bitPattern != y[$0].bitPattern }
            #expect(first == nil, "\(name), length \(n), output \(k): AVX2 \(first.map { x[$0] } ?? 0) against AVX-512 \(first.map { y[$0] } ?? 0) at \(first ?? 0)")
        }
    }

    func random(_ count: Int, seed: UInt64, low: Float = -3, high: Float = 3) -> [Float] {
        randomTensor(Shape(count), seed: seed, low: low, high: high).scalars
    }

    @Test(arguments: lengths)
    func elementwiseKernelsAndTheirGradients(n: Int) {
        let x = random(n, seed: 1), dy = random(n, seed: 2), positive = random(n, seed: 3, low: 0.01, high: 5)
        typealias Forward = (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void
        typealias Backward = (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void
        let kernels: [(String, Forward, Backward)] = [
            ("exp", drl_exp, drl_exp_backward), ("tanh", drl_tanh, drl_tanh_backward),
            ("sigmoid", drl_sigmoid, drl_sigmoid_backward), ("softplus", drl_softplus, drl_softplus_backward),
            ("gelu", drl_gelu, drl_gelu_backward), ("relu", drl_relu, drl_relu_backward), ("log", drl_log, drl_log_backward),
        ]
        for (name, f, g) in kernels {
            let input = name == "log" ? positive : x
            expectSameBits(name, n) {
                var y = [Float](repeating: 0, count: n), dx = y
                f(input, &y, n)
                g(input, dy, &dx, n)
                return [y, dx]
            }
        }
    }

    @Test(arguments: lengths)
    func reductions(n: Int) {
        let x = random(3 * n, seed: 4)
        expectSameBits("sum and max", n) { [[drl_sum(x, n), drl_max(x, n)]] }
        expectSameBits("row and column sums", n) {
            var sums = [Float](repeating: 0, count: 3), maxes = sums, columns = [Float](repeating: 0, count: n)
            drl_row_sums(x, &sums, 3, n)
            drl_row_maxes(x, &maxes, 3, n)
            drl_column_sums(x, &columns, 3, n, n, 0)
            return [sums, maxes, columns]
        }
    }

    @Test(arguments: lengths)
    func softmaxRowsAndTheirGradients(n: Int) {
        let x = random(3 * n, seed: 5, low: -10, high: 10), dy = random(3 * n, seed: 6)
        expectSameBits("softmax", n) {
            var y = [Float](repeating: 0, count: 3 * n), lse = [Float](repeating: 0, count: 3)
            var logY = y, dx = y, logDx = y
            drl_softmax_rows(x, &y, &lse, 3, n)
            drl_log_softmax_rows(x, &logY, 3, n)
            drl_softmax_backward_rows(y, dy, &dx, 3, n)
            drl_log_softmax_backward_rows(logY, dy, &logDx, 3, n)
            return [y, lse, logY, dx, logDx]
        }
    }

    @Test(arguments: lengths)
    func layerNormAndItsGradients(n: Int) {
        let x = random(3 * n, seed: 7), dy = random(3 * n, seed: 8)
        let gamma = random(n, seed: 9, low: 0.5, high: 1.5), beta = random(n, seed: 10)
        expectSameBits("layer norm", n) {
            var y = [Float](repeating: 0, count: 3 * n), mean = [Float](repeating: 0, count: 3), rstd = mean
            drl_layernorm_rows(x, gamma, beta, &y, &mean, &rstd, 3, n, 1e-5)
            var dx = y, dgamma = [Float](repeating: 0, count: n), dbeta = dgamma, pg = dgamma, pb = dgamma
            drl_layernorm_backward_rows(x, gamma, dy, mean, rstd, &dx, &dgamma, &dbeta, 3, n)
            drl_layernorm_parameter_gradients(x, dy, mean, rstd, &pg, &pb, 3, n, n)
            return [y, mean, rstd, dx, dgamma, dbeta, pg, pb]
        }
    }

    @Test(arguments: lengths)
    func optimizerSteps(n: Int) {
        let w = random(n, seed: 11), g = random(n, seed: 12), m = random(n, seed: 13), v = random(n, seed: 14, low: 0, high: 1)
        expectSameBits("Adam and SGD", n) {
            var adamW = w, adamM = m, adamV = v, sgdW = w, buffer = m
            drl_adam_update(&adamW, g, &adamM, &adamV, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, 1, 0.1, 0.002)
            drl_sgd_update(&sgdW, g, &buffer, n, 1e-2, 0.9, 1e-4, 1, 0)
            return [adamW, adamM, adamV, sgdW, buffer]
        }
    }

    @Test(arguments: lengths)
    func recurrentSteps(hidden: Int) {
        let b = 3, h = hidden
        let gx = random(b * 4 * h, seed: 15), gh = random(b * 4 * h, seed: 16), bias = random(4 * h, seed: 17)
        let state = random(b * h, seed: 18), dy = random(b * h, seed: 19)
        expectSameBits("GRU step", h) {
            var rz = [Float](repeating: 0, count: b * 2 * h), nv = [Float](repeating: 0, count: b * h), ghn = nv, next = nv, y = nv
            drl_gru_forward_step(gx, gh, bias, bias, state, &rz, &nv, &ghn, &next, &y, h, b, h)
            var dh = state, dgx = [Float](repeating: 0, count: b * 3 * h), dgh = dgx
            drl_gru_backward_step(dy, h, rz, nv, ghn, state, &dh, &dgx, &dgh, b, h)
            return [rz, nv, ghn, next, y, dh, dgx, dgh]
        }
        expectSameBits("LSTM step", h) {
            var gates = gh, cell = [Float](repeating: 0, count: b * h), tanhC = cell, next = cell, y = cell
            drl_lstm_forward_step(&gates, gx, bias, bias, state, &cell, &tanhC, &next, &y, h, b, h)
            var dc = dy, dg = [Float](repeating: 0, count: b * 4 * h)
            drl_lstm_backward_step(dy, h, gates, tanhC, state, state, &dc, &dg, b, h)
            return [gates, cell, tanhC, next, y, dc, dg]
        }
    }

    @Test(arguments: lengths)
    func largestDotProducts(rows: Int) {
        let d = 7, q = 5
        let transposed = random(d * rows, seed: 20), queries = random(q * d, seed: 21)
        expectSameBits("largest dot products", rows) {
            var out = [Float](repeating: 0, count: rows)
            drl_max_dot_rows(transposed, rows, rows, d, queries, q, &out)
            return [out]
        }
    }
}
