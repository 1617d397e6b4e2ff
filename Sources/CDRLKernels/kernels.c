#include "drl_kernels.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRL_GELU_K0 0.7978845608028654f  // sqrt(2/pi)
#define DRL_GELU_K1 0.044715f

typedef struct {
    void (*exp)(const float *, float *, long);
    void (*log)(const float *, float *, long);
    void (*tanh)(const float *, float *, long);
    void (*sigmoid)(const float *, float *, long);
    void (*softplus)(const float *, float *, long);
    void (*gelu)(const float *, float *, long);
    void (*exp_backward)(const float *, const float *, float *, long);
    void (*log_backward)(const float *, const float *, float *, long);
    void (*tanh_backward)(const float *, const float *, float *, long);
    void (*sigmoid_backward)(const float *, const float *, float *, long);
    void (*softplus_backward)(const float *, const float *, float *, long);
    void (*gelu_backward)(const float *, const float *, float *, long);
    void (*softmax_rows)(const float *, float *, float *, long, long);
    void (*log_softmax_rows)(const float *, float *, long, long);
    void (*softmax_backward_rows)(const float *, const float *, float *, long, long);
    void (*log_softmax_backward_rows)(const float *, const float *, float *, long, long);
    void (*layernorm_rows)(const float *, const float *, const float *, float *, float *, float *, long, long, float);
    float (*sum)(const float *, long);
    float (*max)(const float *, long);
    void (*row_sums)(const float *, float *, long, long);
    void (*row_maxes)(const float *, float *, long, long);
    void (*column_sums)(const float *, float *, long, long, long, int);
    void (*adam_update)(float *, const float *, float *, float *, long, float, float, float, float, float, int, float,
                        float);
    void (*sgd_update)(float *, const float *, float *, long, float, float, float, int, int);
    void (*relu)(const float *, float *, long);
    void (*relu_backward)(const float *, const float *, float *, long);
    void (*layernorm_backward_rows)(const float *, const float *, const float *, const float *, const float *, float *,
                                    float *, float *, long, long);
    void (*layernorm_parameter_gradients)(const float *, const float *, const float *, const float *, float *, float *,
                                          long, long, long);
    void (*gru_forward_step)(const float *, const float *, const float *, const float *, const float *, float *,
                             float *, float *, float *, float *, long, long, long);
    void (*gru_backward_step)(const float *, long, const float *, const float *, const float *, const float *, float *,
                              float *, float *, long, long);
    long (*first_nonfinite)(const float *, long);
    long (*first_greater)(const float *, long, float);
    void (*lstm_forward_step)(float *, const float *, const float *, const float *, const float *, float *, float *,
                              float *, float *, long, long, long);
    void (*lstm_backward_step)(const float *, long, const float *, const float *, const float *, const float *, float *,
                               float *, long, long);
    void (*max_dot_rows)(const float *, long, long, long, const float *, long, float *);
} drl_kernel_table;

#define DRL_SUFFIX portable
#define DRL_TARGET
#define VW 4
#define DRL_REGISTER_FLOATS 4
#define DRL_HAS_FMA 0
#include "kernels_body.h"
#undef DRL_SUFFIX
#undef DRL_TARGET
#undef VW
#undef DRL_REGISTER_FLOATS
#undef DRL_HAS_FMA

#if defined(__x86_64__)
// The AVX2 variant computes on vectors of 16 floats, two registers each: the lanes, the order of
// every sum and the fused multiply-adds of the AVX-512 variant, so that the two give the same bits
// and a network trains the same on either CPU. Only the portable variant (no FMA) rounds otherwise.
#define DRL_SUFFIX avx2
#define DRL_TARGET __attribute__((target("avx2,fma")))
#define VW 16
#define DRL_REGISTER_FLOATS 8
#define DRL_HAS_FMA 1
#include "kernels_body.h"
#undef DRL_SUFFIX
#undef DRL_TARGET
#undef VW
#undef DRL_REGISTER_FLOATS
#undef DRL_HAS_FMA

#define DRL_SUFFIX avx512
#define DRL_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))
#define VW 16
#define DRL_REGISTER_FLOATS 16
#define DRL_HAS_FMA 1
#include "kernels_body.h"
#undef DRL_SUFFIX
#undef DRL_TARGET
#undef VW
#undef DRL_REGISTER_FLOATS
#undef DRL_HAS_FMA
#endif

int drl_cpu_has_avx2_fma(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int drl_cpu_has_avx512_core(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

int drl_cpu_has_avx512_bf16(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return drl_cpu_has_avx512_core() && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

static const drl_kernel_table *const drl_tables[3] = {
    &table_portable,
#if defined(__x86_64__)
    &table_avx2,
    &table_avx512,
#endif
};

static _Atomic int drl_isa = -1;
// Set by drl_kernel_force_isa for the calling thread only, so tests of one variant cannot change
// what concurrently running code computes.
static _Thread_local int drl_forced_isa = -1;

static int drl_cpu_isa(void) {
    if (drl_cpu_has_avx512_core()) return 2;
    if (drl_cpu_has_avx2_fma()) return 1;
    return 0;
}

// The CPU's ISA, or the lower one DRLREC_VECTOR_ISA names (the AVX2 and AVX-512 variants give the
// same bits; the portable one, without FMA, rounds otherwise).
static int drl_detect_isa(void) {
    int best = drl_cpu_isa();
    const char *asked = getenv("DRLREC_VECTOR_ISA");
    if (asked == NULL || asked[0] == 0) return best;
    int level = strcmp(asked, "portable") == 0 ? 0 : strcmp(asked, "avx2") == 0 ? 1 : strcmp(asked, "avx512") == 0 ? 2 : -1;
    if (level < 0) {
        static atomic_flag warned = ATOMIC_FLAG_INIT;
        if (!atomic_flag_test_and_set(&warned)) {
            fprintf(stderr, "drlrec: ignoring DRLREC_VECTOR_ISA=%s: expected portable, avx2 or avx512\n", asked);
        }
        return best;
    }
    return level < best ? level : best;
}

int drl_kernel_isa(void) {
    if (drl_forced_isa >= 0) return drl_forced_isa;
    int level = atomic_load_explicit(&drl_isa, memory_order_relaxed);
    if (level < 0) {
        level = drl_detect_isa();
        atomic_store_explicit(&drl_isa, level, memory_order_relaxed);
    }
    return level;
}

int drl_kernel_force_isa(int level) {
    if (level < 0) {
        drl_forced_isa = -1;
        return drl_kernel_isa();
    }
    int best = drl_cpu_isa();
    drl_forced_isa = level > best ? best : level;
    return drl_forced_isa;
}

#define T (drl_tables[drl_kernel_isa()])

void drl_exp(const float *x, float *y, long n) { T->exp(x, y, n); }
void drl_log(const float *x, float *y, long n) { T->log(x, y, n); }
void drl_tanh(const float *x, float *y, long n) { T->tanh(x, y, n); }
void drl_sigmoid(const float *x, float *y, long n) { T->sigmoid(x, y, n); }
void drl_softplus(const float *x, float *y, long n) { T->softplus(x, y, n); }
void drl_gelu(const float *x, float *y, long n) { T->gelu(x, y, n); }
void drl_exp_backward(const float *x, const float *dy, float *dx, long n) { T->exp_backward(x, dy, dx, n); }
void drl_log_backward(const float *x, const float *dy, float *dx, long n) { T->log_backward(x, dy, dx, n); }
void drl_tanh_backward(const float *x, const float *dy, float *dx, long n) { T->tanh_backward(x, dy, dx, n); }
void drl_sigmoid_backward(const float *x, const float *dy, float *dx, long n) { T->sigmoid_backward(x, dy, dx, n); }
void drl_softplus_backward(const float *x, const float *dy, float *dx, long n) { T->softplus_backward(x, dy, dx, n); }
void drl_gelu_backward(const float *x, const float *dy, float *dx, long n) { T->gelu_backward(x, dy, dx, n); }
void drl_softmax_rows(const float *x, float *y, float *lse, long rows, long cols) { T->softmax_rows(x, y, lse, rows, cols); }
void drl_log_softmax_rows(const float *x, float *y, long rows, long cols) { T->log_softmax_rows(x, y, rows, cols); }
void drl_softmax_backward_rows(const float *y, const float *dy, float *dx, long rows, long cols) {
    T->softmax_backward_rows(y, dy, dx, rows, cols);
}
void drl_log_softmax_backward_rows(const float *y, const float *dy, float *dx, long rows, long cols) {
    T->log_softmax_backward_rows(y, dy, dx, rows, cols);
}
void drl_layernorm_rows(const float *x, const float *gamma, const float *beta, float *y, float *mean, float *rstd,
                        long rows, long cols, float eps) {
    T->layernorm_rows(x, gamma, beta, y, mean, rstd, rows, cols, eps);
}
float drl_sum(const float *x, long n) { return T->sum(x, n); }
float drl_max(const float *x, long n) { return T->max(x, n); }
void drl_row_sums(const float *x, float *out, long rows, long cols) { T->row_sums(x, out, rows, cols); }
void drl_row_maxes(const float *x, float *out, long rows, long cols) { T->row_maxes(x, out, rows, cols); }
void drl_column_sums(const float *x, float *out, long rows, long cols, long stride, int accumulate) {
    T->column_sums(x, out, rows, cols, stride, accumulate);
}
void drl_adam_update(float *w, const float *g, float *m, float *v, long n, float lr, float beta1, float beta2,
                     float eps, float weight_decay, int decoupled, float c1, float c2) {
    T->adam_update(w, g, m, v, n, lr, beta1, beta2, eps, weight_decay, decoupled, c1, c2);
}
void drl_sgd_update(float *w, const float *g, float *buf, long n, float lr, float momentum, float weight_decay,
                    int nesterov, int first) {
    T->sgd_update(w, g, buf, n, lr, momentum, weight_decay, nesterov, first);
}
void drl_relu(const float *x, float *y, long n) { T->relu(x, y, n); }
void drl_relu_backward(const float *x, const float *dy, float *dx, long n) { T->relu_backward(x, dy, dx, n); }
void drl_layernorm_backward_rows(const float *x, const float *gamma, const float *dy, const float *mean, const float *rstd,
                                 float *dx, float *dgamma, float *dbeta, long rows, long cols) {
    T->layernorm_backward_rows(x, gamma, dy, mean, rstd, dx, dgamma, dbeta, rows, cols);
}
void drl_layernorm_parameter_gradients(const float *x, const float *dy, const float *mean, const float *rstd,
                                       float *dgamma, float *dbeta, long rows, long cols, long stride) {
    T->layernorm_parameter_gradients(x, dy, mean, rstd, dgamma, dbeta, rows, cols, stride);
}
void drl_gru_forward_step(const float *gx, const float *gh, const float *bih, const float *bhh,
                          const float *h_prev, float *rz, float *n, float *ghn, float *h_next, float *y, long y_stride,
                          long batch, long hidden) {
    T->gru_forward_step(gx, gh, bih, bhh, h_prev, rz, n, ghn, h_next, y, y_stride, batch, hidden);
}
void drl_gru_backward_step(const float *dy, long dy_stride, const float *rz, const float *n, const float *ghn,
                           const float *h_prev, float *dh, float *dgx, float *dgh, long batch, long hidden) {
    T->gru_backward_step(dy, dy_stride, rz, n, ghn, h_prev, dh, dgx, dgh, batch, hidden);
}
long drl_first_nonfinite(const float *x, long n) { return T->first_nonfinite(x, n); }
long drl_first_greater(const float *x, long n, float threshold) { return T->first_greater(x, n, threshold); }
void drl_gather_rows_and_columns(const float *table, long d, const int32_t *items, long count, float *rows, float *columns) {
    enum { ahead = 8, block = 8 };
    long j = 0;
    // Eight rows at a time: each column then takes eight neighbouring values, one cache line,
    // where a row at a time wrote one value to each of d lines (those stores were most of the time).
    for (; j + block <= count; j += block) {
        const float *source[block];
        for (long b = 0; b < block; b++) {
            if (j + ahead + b < count) __builtin_prefetch(table + (long)items[j + ahead + b] * d);
            source[b] = table + (long)items[j + b] * d;
            memcpy(rows + (j + b) * d, source[b], (size_t)d * sizeof(float));
        }
        for (long k = 0; k < d; k++) {
            float *column = columns + k * count + j;
            for (long b = 0; b < block; b++) column[b] = source[b][k];
        }
    }
    for (; j < count; j++) {
        const float *source = table + (long)items[j] * d;
        float *row = rows + j * d;
        for (long k = 0; k < d; k++) {
            float x = source[k];
            row[k] = x;
            columns[k * count + j] = x;
        }
    }
}
void drl_dot_rows_at(const float *table, long d, const int32_t *items, long count, const float *x, float *out) {
    // Each sum rounds its products and its additions apart, in the order of k, as a plain loop
    // in Swift does (no fused multiply-add): results do not depend on the CPU.
#pragma clang fp contract(off)
    enum { ahead = 16, block = 8 };
    long j = 0;
    // Eight rows at a time, eight sums in flight; the rows sixteen ahead prefetched (each is
    // scattered over a table larger than the core's cache: its latency, not its arithmetic, was
    // most of the time).
    for (; j + block <= count; j += block) {
        const float *row[block];
        float sum[block];
        for (long b = 0; b < block; b++) {
            if (j + ahead + b < count) {
                const float *next = table + (long)items[j + ahead + b] * d;
                __builtin_prefetch(next);
                __builtin_prefetch(next + d - 1);
            }
            row[b] = table + (long)items[j + b] * d;
            sum[b] = 0.0f;
        }
        for (long k = 0; k < d; k++) {
            float xk = x[k];
            for (long b = 0; b < block; b++) sum[b] = sum[b] + row[b][k] * xk;
        }
        for (long b = 0; b < block; b++) out[j + b] = sum[b];
    }
    for (; j < count; j++) {
        const float *row = table + (long)items[j] * d;
        float sum = 0.0f;
        for (long k = 0; k < d; k++) sum = sum + row[k] * x[k];
        out[j] = sum;
    }
}
void drl_max_dot_rows(const float *et, long stride, long n, long d, const float *queries, long q, float *out) {
    T->max_dot_rows(et, stride, n, d, queries, q, out);
}
void drl_lstm_forward_step(float *gates, const float *gx, const float *bih, const float *bhh,
                           const float *c_prev, float *c_next, float *tanh_c, float *h_next, float *y, long y_stride,
                           long batch, long hidden) {
    T->lstm_forward_step(gates, gx, bih, bhh, c_prev, c_next, tanh_c, h_next, y, y_stride, batch, hidden);
}
void drl_lstm_backward_step(const float *dy, long dy_stride, const float *gates, const float *tanh_c, const float *c_prev,
                            const float *dh, float *dc, float *dg, long batch, long hidden) {
    T->lstm_backward_step(dy, dy_stride, gates, tanh_c, c_prev, dh, dc, dg, batch, hidden);
}
