#ifndef DRLREC_KERNELS_H
#define DRLREC_KERNELS_H

// Vectorised float32 kernels for DRLTensor. Every kernel exists in an AVX-512, an AVX2+FMA and a
// portable variant compiled from the same source; the fastest one the CPU (and OS) supports is
// chosen once, at the first call. Pointers need no alignment; `n`, `rows`, `cols` are element counts.
// Output may alias input in the unary kernels and in the row kernels (in-place use is supported).

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Instruction set the kernels dispatch to: 2 = AVX-512, 1 = AVX2+FMA, 0 = portable. The CPU's
// best, or the lower one the environment variable DRLREC_VECTOR_ISA names (portable, avx2,
// avx512), read once.
int drl_kernel_isa(void);
// Forces a lower instruction set than the CPU's on the calling thread only (for testing every
// variant); -1 returns the thread to the detected one. Returns the level in force. Work that a
// kernel hands to the worker pool runs there at the detected level.
int drl_kernel_force_isa(int level);

// CPU features (CPUID plus OS support for the register state).
int drl_cpu_has_avx2_fma(void);
int drl_cpu_has_avx512_core(void);   // AVX-512 F, CD, BW, DQ and VL: what OpenBLAS's SkylakeX kernels use
int drl_cpu_has_avx512_bf16(void);   // AVX512_BF16: required by OpenBLAS's Cooperlake kernels

// y = f(x), elementwise.
void drl_exp(const float *x, float *y, long n);
void drl_log(const float *x, float *y, long n);
void drl_tanh(const float *x, float *y, long n);
void drl_sigmoid(const float *x, float *y, long n);
void drl_softplus(const float *x, float *y, long n);
void drl_gelu(const float *x, float *y, long n);   // tanh approximation

void drl_relu(const float *x, float *y, long n);   // NaN passes through

// dx = dy * f'(x), elementwise (f evaluated at the forward input x).
void drl_relu_backward(const float *x, const float *dy, float *dx, long n);
void drl_exp_backward(const float *x, const float *dy, float *dx, long n);
void drl_log_backward(const float *x, const float *dy, float *dx, long n);
void drl_tanh_backward(const float *x, const float *dy, float *dx, long n);
void drl_sigmoid_backward(const float *x, const float *dy, float *dx, long n);
void drl_softplus_backward(const float *x, const float *dy, float *dx, long n);
void drl_gelu_backward(const float *x, const float *dy, float *dx, long n);

// Row-wise softmax / log-softmax over a [rows, cols] matrix. A row whose entries are all -inf
// gives zeros from softmax and -inf from log-softmax; NaN or +inf makes its whole row NaN.
// softmax_rows also writes log-sum-exp per row to lse when lse is not NULL.
void drl_softmax_rows(const float *x, float *y, float *lse, long rows, long cols);
void drl_log_softmax_rows(const float *x, float *y, long rows, long cols);
// dx = y * (dy - sum(dy * y)) per row, with y the softmax output.
void drl_softmax_backward_rows(const float *y, const float *dy, float *dx, long rows, long cols);
// dx = dy - exp(y) * sum(dy) per row, with y the log-softmax output.
void drl_log_softmax_backward_rows(const float *y, const float *dy, float *dx, long rows, long cols);

// LayerNorm over the last dimension: mean and rstd = 1/sqrt(var + eps) per row (biased variance);
// y = (x - mean) * rstd * gamma + beta when y is not NULL (gamma/beta may be NULL: 1 and 0).
void drl_layernorm_rows(const float *x, const float *gamma, const float *beta, float *y,
                        float *mean, float *rstd, long rows, long cols, float eps);

// Optimizer updates over n parameters (w weights, g gradients, m and v moment buffers).
// Adam: m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²; w −= lr·(m/c1) / (sqrt(v/c2) + eps), with the
// bias corrections c1 = 1 − b1^t, c2 = 1 − b2^t passed in. weight_decay is added to g (L2, Adam)
// or, when decoupled != 0, applied as w −= lr·weight_decay·w before the step (AdamW).
void drl_adam_update(float *w, const float *g, float *m, float *v, long n, float lr, float beta1, float beta2,
                     float eps, float weight_decay, int decoupled, float c1, float c2);
// SGD with momentum (PyTorch's form, no dampening): d = g + wd·w; buf = momentum·buf + d (buf = d on
// the first step, first != 0); d = nesterov ? d + momentum·buf : buf; w −= lr·d. With momentum 0,
// buf may be NULL.
void drl_sgd_update(float *w, const float *g, float *buf, long n, float lr, float momentum, float weight_decay,
                    int nesterov, int first);

// LayerNorm backward over rows, from the forward input x, gamma and the saved mean/rstd: with
// n = (x − mean)·rstd and dn = dy·gamma, dx = rstd·(dn − mean(dn) − n·mean(dn·n)); dgamma += Σ dy·n
// and dbeta += Σ dy over the rows (skipped when NULL).
void drl_layernorm_backward_rows(const float *x, const float *gamma, const float *dy, const float *mean, const float *rstd,
                                 float *dx, float *dgamma, float *dbeta, long rows, long cols);

// The dgamma and dbeta accumulations of drl_layernorm_backward_rows alone (either may be NULL), for
// `cols` columns of rows `stride` apart, bit-identical to theirs: for splitting by columns.
void drl_layernorm_parameter_gradients(const float *x, const float *dy, const float *mean, const float *rstd,
                                       float *dgamma, float *dbeta, long rows, long cols, long stride);

// One GRU time step for `batch` rows (PyTorch's gate order r, z, n; H = hidden). gx: input
// projections x·Wᵢₕᵀ (B × 3H, bias not added); gh: h·Wₕₕᵀ (B × 3H);
// writes r | z (B × 2H), n and Wₕₙh + bₕₙ (B × H each), the new state and the output row
// (y + b·y_stride).
void drl_gru_forward_step(const float *gx, const float *gh, const float *bih, const float *bhh,
                          const float *h_prev, float *rz, float *n, float *ghn, float *h_next, float *y, long y_stride,
                          long batch, long hidden);
// The matching backward step: dh holds the gradient flowing in from later steps and is replaced by
// its direct part dh·z (the caller then adds dgh·Wₕₕ); writes the pre-activation gradients of the
// input projections (dgx, B × 3H) and of the recurrent ones (dgh, B × 3H).
void drl_gru_backward_step(const float *dy, long dy_stride, const float *rz, const float *n, const float *ghn,
                           const float *h_prev, float *dh, float *dgx, float *dgh, long batch, long hidden);

// One LSTM step over a batch (gates i, f, g, o): `gates` [B, 4H] holds h·Wₕₕᵀ and receives the
// activated gates, after adding the input projections gx [B, 4H] and both
// biases; then c_next = f·c_prev + i·g, tanh_c = tanh(c_next), h_next = o·tanh_c, also into y
// (rows y_stride apart).
void drl_lstm_forward_step(float *gates, const float *gx, const float *bih, const float *bhh,
                           const float *c_prev, float *c_next, float *tanh_c, float *h_next, float *y, long y_stride,
                           long batch, long hidden);

// The LSTM step's backward: from dy (rows dy_stride apart) and the gradients dh, dc reaching the
// step's outputs, writes the pre-activation gate gradients dg [B, 4H] and replaces dc with dc·f.
void drl_lstm_backward_step(const float *dy, long dy_stride, const float *gates, const float *tanh_c, const float *c_prev,
                            const float *dh, float *dc, float *dg, long batch, long hidden);

// Index of the first NaN or infinite element, or -1 when all are finite.
long drl_first_nonfinite(const float *x, long n);

// Index of the first element greater than `threshold`, or n (NaN is never greater).
long drl_first_greater(const float *x, long n, float threshold);

// out[i] = max(0, max over j < q of the dot product of row i with queries[j]) for the n rows of a
// matrix given transposed (row i's k-th of d elements at et[k * stride + i]); queries is [q, d].
// Each dot product is one chain of fused multiply-adds in the order of k, and the largest is
// taken in the order of j, a later one replacing the earlier when at least as large.
void drl_max_dot_rows(const float *et, long stride, long n, long d, const float *queries, long q, float *out);

// rows[j * d + k] = columns[k * count + j] = table[items[j] * d + k] for j < count, k < d: rows of
// a table gathered both as rows and transposed, the next rows prefetched while one is copied
// (the rows are scattered over a table larger than the core's cache).
void drl_gather_rows_and_columns(const float *table, long d, const int32_t *items, long count, float *rows, float *columns);

// out[j] = the dot product of x with row items[j] of a table of rows of d elements, for j < count:
// each a sum in the order of k of separately rounded products (no fused multiply-add), the
// next rows prefetched.
void drl_dot_rows_at(const float *table, long d, const int32_t *items, long count, const float *x, float *out);

// Reductions.
float drl_sum(const float *x, long n);
float drl_max(const float *x, long n);                       // -inf for n == 0; NaN if any is NaN
void drl_row_sums(const float *x, float *out, long rows, long cols);
void drl_row_maxes(const float *x, float *out, long rows, long cols);
// out[c] = sum over rows of x[r * stride + c], c < cols (+ out[c] when accumulate != 0).
void drl_column_sums(const float *x, float *out, long rows, long cols, long stride, int accumulate);

// Calls fn(context, i) for every i in [0, chunks) on up to `threads` threads: the caller plus
// persistent workers, started on first use. Returns when every call has finished. Allocates
// nothing after the workers exist. A call made from inside a chunk, or while another thread's call
// is running, runs its chunks inline on the calling thread.
typedef void (*drl_task_fn)(void *context, long chunk);
void drl_parallel_run(long chunks, int threads, drl_task_fn fn, void *context);

// Runs `iterations` rounds of twelve independent vector FMAs at the widest width the CPU supports
// and returns the floating-point operations done (0 where no such loop exists). Timing it gives
// one core's peak FLOP rate: the roofline that GEMM figures are compared against.
double drl_fma_loop(long iterations);

// OpenBLAS run-time kernel control (DYNAMIC_ARCH builds). Returns 0 on success, -1 when the loaded
// OpenBLAS cannot switch kernels at run time.
int drl_openblas_reload_kernel(const char *coretype);

#ifdef __cplusplus
}
#endif

#endif
