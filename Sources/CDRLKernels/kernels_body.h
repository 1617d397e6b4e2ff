// Kernel bodies, compiled once per instruction set. kernels.c includes this header (no include
// guard, on purpose) with DRL_SUFFIX (name suffix), DRL_TARGET (function attribute selecting the
// instruction set), VW (floats per vector: the lanes every sum is split into) and
// DRL_REGISTER_FLOATS (floats per register of that instruction set, VW or fewer).

#define DRL_CAT2(a, b) a##_##b
#define DRL_CAT(a, b) DRL_CAT2(a, b)
#define K(name) DRL_CAT(name, DRL_SUFFIX)

// Helpers are compiled for the same instruction set as their callers.
#define DRL_VEC static inline __attribute__((always_inline)) DRL_TARGET

// Per-variant names for the helpers of vector_math.h.
#define vf K(vf)
#define vi K(vi)
#define ld K(ld)
#define st K(st)
#define ld_part K(ld_part)
#define st_part K(st_part)
#define sel K(sel)
#define vmin K(vmin)
#define vmax K(vmax)
#define vabs K(vabs)
#define vfma K(vfma)
#define hsum K(hsum)
#define hmax K(hmax)
#define v_exp_reduced K(v_exp_reduced)
#define v_pow2 K(v_pow2)
#define v_exp K(v_exp)
#define v_exp_nonpositive K(v_exp_nonpositive)
#define v_exp_saturating K(v_exp_saturating)
#define v_log K(v_log)
#define v_tanh K(v_tanh)
#define v_sigmoid K(v_sigmoid)
#define v_softplus K(v_softplus)
#define v_gelu K(v_gelu)
#define v_gelu_derivative K(v_gelu_derivative)
#include "vector_math.h"

#define DRL_UNARY(name, fn)                                                                  \
    DRL_TARGET static void K(name)(const float *x, float *y, long n) {                       \
        long i = 0;                                                                          \
        for (; i + VW <= n; i += VW) st(y + i, fn(ld(x + i)));                               \
        if (i < n) st_part(y + i, fn(ld_part(x + i, n - i, 0.0f)), n - i);                   \
    }

#define DRL_BACKWARD(name, derivative)                                                       \
    DRL_TARGET static void K(name)(const float *x, const float *dy, float *dx, long n) {     \
        long i = 0;                                                                          \
        for (; i + VW <= n; i += VW) st(dx + i, ld(dy + i) * derivative(ld(x + i)));          \
        if (i < n) {                                                                         \
            vf d = derivative(ld_part(x + i, n - i, 1.0f));                                  \
            st_part(dx + i, ld_part(dy + i, n - i, 0.0f) * d, n - i);                         \
        }                                                                                    \
    }

DRL_UNARY(exp, v_exp)
DRL_UNARY(log, v_log)
DRL_UNARY(tanh, v_tanh)
DRL_UNARY(sigmoid, v_sigmoid)
DRL_UNARY(softplus, v_softplus)
DRL_UNARY(gelu, v_gelu)

// Derivatives written to avoid the cancellation of 1 - t*t and s*(1 - s) as t, s approach 1.
DRL_VEC vf K(d_tanh)(vf x) {
    vf u = v_exp(-2.0f * vabs(x));  // sech^2 x = 4u / (1 + u)^2
    vf w = 1.0f + u;
    return 4.0f * u / (w * w);
}
DRL_VEC vf K(d_sigmoid)(vf x) {
    vf u = v_exp(-vabs(x));  // s(1 - s) = u / (1 + u)^2, symmetric in x
    vf w = 1.0f + u;
    return u / (w * w);
}
DRL_VEC vf K(d_log)(vf x) { return 1.0f / x; }

DRL_BACKWARD(exp_backward, v_exp)
DRL_BACKWARD(log_backward, K(d_log))
DRL_BACKWARD(tanh_backward, K(d_tanh))
DRL_BACKWARD(sigmoid_backward, K(d_sigmoid))
DRL_BACKWARD(softplus_backward, v_sigmoid)
DRL_BACKWARD(gelu_backward, v_gelu_derivative)

DRL_TARGET static float K(sum)(const float *x, long n) {
    vf a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    long i = 0;
    for (; i + 4 * VW <= n; i += 4 * VW) {
        a0 += ld(x + i);
        a1 += ld(x + i + VW);
        a2 += ld(x + i + 2 * VW);
        a3 += ld(x + i + 3 * VW);
    }
    for (; i + VW <= n; i += VW) a0 += ld(x + i);
    if (i < n) a1 += ld_part(x + i, n - i, 0.0f);
    return hsum((a0 + a1) + (a2 + a3));
}

DRL_TARGET static float K(max)(const float *x, long n) {
    vf m0 = -INFINITY, m1 = -INFINITY;
    vi nan = 0;
    long i = 0;
    for (; i + 2 * VW <= n; i += 2 * VW) {
        vf a = ld(x + i), b = ld(x + i + VW);
        m0 = vmax(m0, a);
        m1 = vmax(m1, b);
        nan |= (a != a) | (b != b);
    }
    for (; i + VW <= n; i += VW) {
        vf a = ld(x + i);
        m0 = vmax(m0, a);
        nan |= a != a;
    }
    if (i < n) {
        vf a = ld_part(x + i, n - i, -INFINITY);
        m1 = vmax(m1, a);
        nan |= a != a;
    }
    if (__builtin_reduce_or(nan)) return NAN;
    return hmax(vmax(m0, m1));
}

DRL_TARGET static void K(row_sums)(const float *x, float *out, long rows, long cols) {
    for (long r = 0; r < rows; r++) out[r] = K(sum)(x + r * cols, cols);
}

DRL_TARGET static void K(row_maxes)(const float *x, float *out, long rows, long cols) {
    for (long r = 0; r < rows; r++) out[r] = K(max)(x + r * cols, cols);
}

DRL_TARGET static void K(column_sums)(const float *x, float *out, long rows, long cols, long stride, int accumulate) {
    if (!accumulate) memset(out, 0, (size_t)cols * sizeof(float));
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * stride;
        long i = 0;
        for (; i + VW <= cols; i += VW) st(out + i, ld(out + i) + ld(xr + i));
        for (; i < cols; i++) out[i] += xr[i];
    }
}

// A row holding NaN or +inf (where x - max is undefined) becomes NaN, as in PyTorch.
DRL_VEC int K(row_is_undefined)(float m) { return m != m || m == INFINITY; }

DRL_TARGET static void K(softmax_rows)(const float *x, float *y, float *lse, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = K(max)(xr, cols);
        if (m == -INFINITY) {
            memset(yr, 0, (size_t)cols * sizeof(float));
            if (lse) lse[r] = -INFINITY;
            continue;
        }
        if (K(row_is_undefined)(m)) {
            for (long i = 0; i < cols; i++) yr[i] = NAN;
            if (lse) lse[r] = NAN;
            continue;
        }
        vf acc0 = 0.0f, acc1 = 0.0f;
        long i = 0;
        for (; i + 2 * VW <= cols; i += 2 * VW) {
            vf e0 = v_exp_nonpositive(ld(xr + i) - m), e1 = v_exp_nonpositive(ld(xr + i + VW) - m);
            st(yr + i, e0);
            st(yr + i + VW, e1);
            acc0 += e0;
            acc1 += e1;
        }
        for (; i + VW <= cols; i += VW) {
            vf e = v_exp_nonpositive(ld(xr + i) - m);
            st(yr + i, e);
            acc0 += e;
        }
        if (i < cols) {
            vf e = v_exp_nonpositive(ld_part(xr + i, cols - i, -INFINITY) - m);
            st_part(yr + i, e, cols - i);
            acc1 += e;
        }
        float total = hsum(acc0 + acc1), inv = 1.0f / total;
        if (lse) lse[r] = m + logf(total);
        for (i = 0; i + VW <= cols; i += VW) st(yr + i, ld(yr + i) * inv);
        for (; i < cols; i++) yr[i] *= inv;
    }
}

DRL_TARGET static void K(log_softmax_rows)(const float *x, float *y, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = K(max)(xr, cols);
        if (m == -INFINITY || K(row_is_undefined)(m)) {
            for (long i = 0; i < cols; i++) yr[i] = m == -INFINITY ? -INFINITY : NAN;
            continue;
        }
        vf acc0 = 0.0f, acc1 = 0.0f;
        long i = 0;
        for (; i + 2 * VW <= cols; i += 2 * VW) {
            acc0 += v_exp_nonpositive(ld(xr + i) - m);
            acc1 += v_exp_nonpositive(ld(xr + i + VW) - m);
        }
        for (; i + VW <= cols; i += VW) acc0 += v_exp_nonpositive(ld(xr + i) - m);
        if (i < cols) acc1 += v_exp_nonpositive(ld_part(xr + i, cols - i, -INFINITY) - m);
        // (x - max) - log(sum) keeps log(sum) even when max is so large that max + log(sum) rounds.
        float log_sum = logf(hsum(acc0 + acc1));
        for (i = 0; i + VW <= cols; i += VW) st(yr + i, (ld(xr + i) - m) - log_sum);
        for (; i < cols; i++) yr[i] = (xr[i] - m) - log_sum;
    }
}

DRL_TARGET static void K(softmax_backward_rows)(const float *y, const float *dy, float *dx, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *gr = dy + r * cols;
        float *dr = dx + r * cols;
        vf acc = 0.0f;
        long i = 0;
        for (; i + VW <= cols; i += VW) acc = vfma(ld(yr + i), ld(gr + i), acc);
        float dot = hsum(acc);
        for (; i < cols; i++) dot += yr[i] * gr[i];
        for (i = 0; i + VW <= cols; i += VW) st(dr + i, ld(yr + i) * (ld(gr + i) - dot));
        for (; i < cols; i++) dr[i] = yr[i] * (gr[i] - dot);
    }
}

DRL_TARGET static void K(log_softmax_backward_rows)(const float *y, const float *dy, float *dx, long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *gr = dy + r * cols;
        float *dr = dx + r * cols;
        float total = K(sum)(gr, cols);
        long i = 0;
        for (; i + VW <= cols; i += VW) st(dr + i, vfma(v_exp(ld(yr + i)), (vf)(-total), ld(gr + i)));
        for (; i < cols; i++) dr[i] = gr[i] - expf(yr[i]) * total;
    }
}

DRL_TARGET static void K(layernorm_rows)(const float *x, const float *gamma, const float *beta, float *y,
                                         float *mean, float *rstd, long rows, long cols, float eps) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float mu = K(sum)(xr, cols) / (float)cols;
        vf acc = 0.0f;
        long i = 0;
        for (; i + VW <= cols; i += VW) {
            vf d = ld(xr + i) - mu;
            acc = vfma(d, d, acc);
        }
        float var = hsum(acc);
        for (; i < cols; i++) var += (xr[i] - mu) * (xr[i] - mu);
        float rs = 1.0f / sqrtf(var / (float)cols + eps);
        mean[r] = mu;
        rstd[r] = rs;
        if (!y) continue;
        float *yr = y + r * cols;
        for (i = 0; i + VW <= cols; i += VW) {
            vf v = (ld(xr + i) - mu) * rs;
            if (gamma) v = v * ld(gamma + i);
            if (beta) v = v + ld(beta + i);
            st(yr + i, v);
        }
        for (; i < cols; i++) {
            float v = (xr[i] - mu) * rs;
            if (gamma) v *= gamma[i];
            if (beta) v += beta[i];
            yr[i] = v;
        }
    }
}

DRL_TARGET static void K(adam_update)(float *w, const float *g, float *m, float *v, long n, float lr, float beta1,
                                      float beta2, float eps, float weight_decay, int decoupled, float c1, float c2) {
    const float step = lr / c1, inv_sqrt_c2 = 1.0f / sqrtf(c2);
    const float l2 = decoupled ? 0.0f : weight_decay, shrink = decoupled ? 1.0f - lr * weight_decay : 1.0f;
    long i = 0;
    for (; i + VW <= n; i += VW) {
        vf wi = ld(w + i), gi = vfma(wi, (vf)l2, ld(g + i));
        vf mi = vfma(ld(m + i), (vf)beta1, (1.0f - beta1) * gi);
        vf vi_ = vfma(ld(v + i), (vf)beta2, (1.0f - beta2) * gi * gi);
        vf denom = __builtin_elementwise_sqrt(vi_) * inv_sqrt_c2 + eps;
        st(m + i, mi);
        st(v + i, vi_);
        st(w + i, wi * shrink - step * mi / denom);
    }
    for (; i < n; i++) {
        float gi = g[i] + l2 * w[i];
        m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
        v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        w[i] = w[i] * shrink - step * m[i] / (sqrtf(v[i]) * inv_sqrt_c2 + eps);
    }
}

DRL_TARGET static void K(sgd_update)(float *w, const float *g, float *buf, long n, float lr, float momentum,
                                     float weight_decay, int nesterov, int first) {
    for (long i = 0; i < n; i++) {
        float d = g[i] + weight_decay * w[i];
        if (momentum != 0.0f) {
            float b = first ? d : momentum * buf[i] + d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        w[i] -= lr * d;
    }
}

DRL_VEC vf K(relu_v)(vf x) { return sel(x < 0.0f, (vf)0.0f, x); }  // NaN passes through
DRL_UNARY(relu, K(relu_v))
DRL_VEC vf K(d_relu)(vf x) { return sel(x > 0.0f, (vf)1.0f, (vf)0.0f); }
DRL_BACKWARD(relu_backward, K(d_relu))

// Loads/stores `count` (1...VW) floats: a full vector when count == VW.
DRL_VEC vf K(ldn)(const float *p, long count) { return count == VW ? ld(p) : ld_part(p, count, 0.0f); }
DRL_VEC void K(stn)(float *p, vf v, long count) {
    if (count == VW) st(p, v); else st_part(p, v, count);
}

DRL_TARGET static void K(layernorm_backward_rows)(const float *x, const float *gamma, const float *dy, const float *mean,
                                                  const float *rstd, float *dx, float *dgamma, float *dbeta,
                                                  long rows, long cols) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        const float mu = mean[r], rs = rstd[r];
        vf a_dn = 0.0f, a_dnn = 0.0f;
        for (long j = 0; j < cols; j += VW) {
            long c = cols - j < VW ? cols - j : VW;
            vf n = (K(ldn)(xr + j, c) - mu) * rs, g = K(ldn)(dyr + j, c);
            vf dn = g * K(ldn)(gamma + j, c);
            a_dn += dn;
            a_dnn = vfma(dn, n, a_dnn);
            if (dgamma) K(stn)(dgamma + j, vfma(g, n, K(ldn)(dgamma + j, c)), c);
            if (dbeta) K(stn)(dbeta + j, K(ldn)(dbeta + j, c) + g, c);
        }
        const float m_dn = hsum(a_dn) / (float)cols, m_dnn = hsum(a_dnn) / (float)cols;
        for (long j = 0; j < cols; j += VW) {
            long c = cols - j < VW ? cols - j : VW;
            vf n = (K(ldn)(xr + j, c) - mu) * rs;
            vf dn = K(ldn)(dyr + j, c) * K(ldn)(gamma + j, c);
            K(stn)(dxr + j, rs * (dn - m_dn - n * m_dnn), c);
        }
    }
}

// The gamma and beta gradients of layernorm_backward_rows alone, for `cols` columns of rows `stride`
// apart: the same arithmetic in the same row order, so that column blocks run on several threads
// give the bits of one pass over all columns.
DRL_TARGET static void K(layernorm_parameter_gradients)(const float *x, const float *dy, const float *mean,
                                                        const float *rstd, float *dgamma, float *dbeta, long rows,
                                                        long cols, long stride) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * stride, *dyr = dy + r * stride;
        const float mu = mean[r], rs = rstd[r];
        for (long j = 0; j < cols; j += VW) {
            long c = cols - j < VW ? cols - j : VW;
            vf n = (K(ldn)(xr + j, c) - mu) * rs, g = K(ldn)(dyr + j, c);
            if (dgamma) K(stn)(dgamma + j, vfma(g, n, K(ldn)(dgamma + j, c)), c);
            if (dbeta) K(stn)(dbeta + j, K(ldn)(dbeta + j, c) + g, c);
        }
    }
}

DRL_TARGET static void K(gru_forward_step)(const float *gx, const float *gh, const float *bih,
                                           const float *bhh, const float *h_prev, float *rz, float *n, float *ghn,
                                           float *h_next, float *y, long y_stride, long batch, long hidden) {
    const long H = hidden;
    for (long b = 0; b < batch; b++) {
        const float *gxr = gx + b * 3 * H, *ghr = gh + b * 3 * H, *hp = h_prev + b * H;
        float *rzr = rz + b * 2 * H, *nr = n + b * H, *ghnr = ghn + b * H, *hn = h_next + b * H, *yr = y + b * y_stride;
        // The outputs of a step are rows far apart (one per sequence): fetch ahead.
        if (b + 4 < batch) {
            for (long j = 0; j < H; j += 16) __builtin_prefetch(yr + 4 * y_stride + j, 1, 3);
        }
        for (long j = 0; j < H; j += VW) {
            long c = H - j < VW ? H - j : VW;
            vf r = v_sigmoid(K(ldn)(gxr + j, c) + K(ldn)(bih + j, c) + K(ldn)(ghr + j, c) + K(ldn)(bhh + j, c));
            vf z = v_sigmoid(K(ldn)(gxr + H + j, c) + K(ldn)(bih + H + j, c) + K(ldn)(ghr + H + j, c) +
                             K(ldn)(bhh + H + j, c));
            vf hn_pre = K(ldn)(ghr + 2 * H + j, c) + K(ldn)(bhh + 2 * H + j, c);
            vf nv = v_tanh(vfma(r, hn_pre, K(ldn)(gxr + 2 * H + j, c) + K(ldn)(bih + 2 * H + j, c)));
            vf h = vfma(z, K(ldn)(hp + j, c) - nv, nv);  // (1 − z)·n + z·h = n + z·(h − n)
            K(stn)(rzr + j, r, c);
            K(stn)(rzr + H + j, z, c);
            K(stn)(ghnr + j, hn_pre, c);
            K(stn)(nr + j, nv, c);
            K(stn)(hn + j, h, c);
            K(stn)(yr + j, h, c);
        }
    }
}

DRL_TARGET static void K(gru_backward_step)(const float *dy, long dy_stride, const float *rz, const float *n,
                                            const float *ghn, const float *h_prev, float *dh, float *dgx, float *dgh,
                                            long batch, long hidden) {
    const long H = hidden;
    for (long b = 0; b < batch; b++) {
        const float *dyr = dy + b * dy_stride, *rzr = rz + b * 2 * H, *nr = n + b * H, *ghnr = ghn + b * H;
        const float *hp = h_prev + b * H;
        float *dhr = dh + b * H, *dgxr = dgx + b * 3 * H, *dghr = dgh + b * 3 * H;
        if (b + 4 < batch) {
            for (long j = 0; j < H; j += 16) __builtin_prefetch(dyr + 4 * dy_stride + j, 0, 3);
        }
        for (long j = 0; j < H; j += VW) {
            long c = H - j < VW ? H - j : VW;
            vf r = K(ldn)(rzr + j, c), z = K(ldn)(rzr + H + j, c), nv = K(ldn)(nr + j, c);
            vf d = K(ldn)(dyr + j, c) + K(ldn)(dhr + j, c);
            vf dn_pre = d * (1.0f - z) * (1.0f - nv * nv);
            vf dz_pre = d * (K(ldn)(hp + j, c) - nv) * z * (1.0f - z);
            vf dr_pre = dn_pre * K(ldn)(ghnr + j, c) * r * (1.0f - r);
            K(stn)(dgxr + j, dr_pre, c);
            K(stn)(dgxr + H + j, dz_pre, c);
            K(stn)(dgxr + 2 * H + j, dn_pre, c);
            K(stn)(dghr + j, dr_pre, c);
            K(stn)(dghr + H + j, dz_pre, c);
            K(stn)(dghr + 2 * H + j, dn_pre * r, c);
            K(stn)(dhr + j, d * z, c);
        }
    }
}

DRL_TARGET static long K(first_nonfinite)(const float *x, long n) {
    long i = 0;
    for (; i + VW <= n; i += VW) {
        vf v = ld(x + i), d = v - v;  // NaN exactly where v is NaN or ±inf
        if (__builtin_reduce_or(d != d)) break;
    }
    for (; i < n; i++) {
        float d = x[i] - x[i];
        if (d != d) return i;
    }
    return -1;
}

// One LSTM step over `batch` rows (PyTorch's gate order i, f, g, o). `gates` [B, 4H] holds the
// recurrent projection h·Wₕₕᵀ and receives the activated gates; gx [B, 4H] holds the input
// projections. Then c' = f·c + i·g, tanh(c') and h' = o·tanh(c'), also written to y (rows
// y_stride apart). Contraction is off: each product and sum rounds on its own, as in the Swift
// loops and separate activation passes this replaced, so the results are theirs bit for bit.
DRL_TARGET static void K(lstm_forward_step)(float *gates, const float *gx, const float *bih,
                                            const float *bhh, const float *c_prev, float *c_next, float *tanh_c,
                                            float *h_next, float *y, long y_stride, long batch, long hidden) {
#pragma clang fp contract(off)
    const long H = hidden, G = 4 * hidden;
    for (long b = 0; b < batch; b++) {
        float *g = gates + b * G;
        const float *gxr = gx + b * G;
        for (long j = 0; j < G; j += VW) {
            long c = G - j < VW ? G - j : VW;
            vf v = K(ldn)(g + j, c) + ((K(ldn)(gxr + j, c) + K(ldn)(bih + j, c)) + K(ldn)(bhh + j, c));
            K(stn)(g + j, v, c);
        }
        for (long j = 0; j < 2 * H; j += VW) {
            long c = 2 * H - j < VW ? 2 * H - j : VW;
            K(stn)(g + j, v_sigmoid(K(ldn)(g + j, c)), c);
        }
        for (long j = 0; j < H; j += VW) {
            long c = H - j < VW ? H - j : VW;
            K(stn)(g + 2 * H + j, v_tanh(K(ldn)(g + 2 * H + j, c)), c);
            K(stn)(g + 3 * H + j, v_sigmoid(K(ldn)(g + 3 * H + j, c)), c);
        }
        const float *cp = c_prev + b * H;
        float *cn = c_next + b * H, *tc = tanh_c + b * H, *hn = h_next + b * H, *yr = y + b * y_stride;
        for (long j = 0; j < H; j += VW) {
            long c = H - j < VW ? H - j : VW;
            vf i = K(ldn)(g + j, c), f = K(ldn)(g + H + j, c), gg = K(ldn)(g + 2 * H + j, c), o = K(ldn)(g + 3 * H + j, c);
            vf cell = f * K(ldn)(cp + j, c) + i * gg;
            vf t = v_tanh(cell), out = o * t;
            K(stn)(cn + j, cell, c);
            K(stn)(tc + j, t, c);
            K(stn)(hn + j, out, c);
            K(stn)(yr + j, out, c);
        }
    }
}

// The matching backward step over `batch` rows: from dy (rows dy_stride apart), the gradient dh
// reaching h' from later steps and dc reaching c', writes the pre-activation gate gradients dg
// [B, 4H] and replaces dc with the gradient reaching c (dc·f). dh is left for the caller, which
// overwrites it with dg·Wₕₕ. Contraction is off, as in the forward step.
DRL_TARGET static void K(lstm_backward_step)(const float *dy, long dy_stride, const float *gates, const float *tanh_c,
                                             const float *c_prev, const float *dh, float *dc, float *dg, long batch,
                                             long hidden) {
#pragma clang fp contract(off)
    const long H = hidden, G = 4 * hidden;
    for (long b = 0; b < batch; b++) {
        const float *g = gates + b * G, *tc = tanh_c + b * H, *cp = c_prev + b * H, *dyr = dy + b * dy_stride;
        const float *dhr = dh + b * H;
        float *dcr = dc + b * H, *dgr = dg + b * G;
        for (long j = 0; j < H; j += VW) {
            long c = H - j < VW ? H - j : VW;
            vf i = K(ldn)(g + j, c), f = K(ldn)(g + H + j, c), gg = K(ldn)(g + 2 * H + j, c), o = K(ldn)(g + 3 * H + j, c);
            vf t = K(ldn)(tc + j, c);
            vf dhv = K(ldn)(dyr + j, c) + K(ldn)(dhr + j, c);
            vf dcv = K(ldn)(dcr + j, c) + dhv * o * (1.0f - t * t);
            K(stn)(dgr + j, dcv * gg * i * (1.0f - i), c);
            K(stn)(dgr + H + j, dcv * K(ldn)(cp + j, c) * f * (1.0f - f), c);
            K(stn)(dgr + 2 * H + j, dcv * i * (1.0f - gg * gg), c);
            K(stn)(dgr + 3 * H + j, dhv * t * o * (1.0f - o), c);
            K(stn)(dcr + j, dcv * f, c);
        }
    }
}

// Index of the first x[i] > t (NaN never is), or n.
DRL_TARGET static long K(first_greater)(const float *x, long n, float t) {
    long i = 0;
    vf vt = t;
    for (; i + VW <= n; i += VW) {
        if (__builtin_reduce_or(ld(x + i) > vt)) break;
    }
    for (; i < n; i++) {
        if (x[i] > t) return i;
    }
    return n;
}

// out[i] = the largest of 0 and the dot products of row i with each query, for rows i of a matrix
// given transposed (et[k * stride + i] is row i's k-th element) and queries [q, d]. Each dot
// product is one chain of fused multiply-adds in the order of k (as a GEMM kernel accumulates
// it), and the largest is taken query by query in order, keeping the earlier one unless a later
// one is at least as large (NaN never is): each row's result is the same at any tile size. Rows
// go two vectors at a time against four queries, eight chains in flight; one vector where a
// vector takes two registers, so that the chains still fit in the register file.
#define DRL_DOT_TILE (VW > DRL_REGISTER_FLOATS ? 1 : 2)
DRL_TARGET static void K(max_dot_rows)(const float *et, long stride, long n, long d, const float *queries, long q, float *out) {
    for (long i = 0; i < n; i += DRL_DOT_TILE * VW) {
        long w0 = n - i < VW ? n - i : VW, w1 = DRL_DOT_TILE == 1 ? 0 : n - i - VW < VW ? n - i - VW : VW;
        vf m0 = 0.0f, m1 = 0.0f;
        for (long j = 0; j < q; j += 4) {
            long jn = q - j < 4 ? q - j : 4;
            // Queries past the last repeat it: computed, never taken.
            const float *b0 = queries + j * d, *b1 = queries + (j + (jn > 1)) * d, *b2 = queries + (j + 2 * (jn > 2)) * d,
                        *b3 = queries + (j + 3 * (jn > 3)) * d;
            vf a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f;
            for (long k = 0; k < d; k++) {
                const float *row = et + k * stride + i;
                vf e0 = w0 == VW ? ld(row) : ld_part(row, w0, 0.0f);
                a0 = vfma(e0, b0[k], a0);
                a1 = vfma(e0, b1[k], a1);
                a2 = vfma(e0, b2[k], a2);
                a3 = vfma(e0, b3[k], a3);
                if (DRL_DOT_TILE == 2) {
                    vf e1 = w1 == VW ? ld(row + VW) : w1 > 0 ? ld_part(row + VW, w1, 0.0f) : (vf)0.0f;
                    c0 = vfma(e1, b0[k], c0);
                    c1 = vfma(e1, b1[k], c1);
                    c2 = vfma(e1, b2[k], c2);
                    c3 = vfma(e1, b3[k], c3);
                }
            }
            m0 = sel(a0 >= m0, a0, m0); m1 = sel(c0 >= m1, c0, m1);
            if (jn > 1) { m0 = sel(a1 >= m0, a1, m0); m1 = sel(c1 >= m1, c1, m1); }
            if (jn > 2) { m0 = sel(a2 >= m0, a2, m0); m1 = sel(c2 >= m1, c2, m1); }
            if (jn > 3) { m0 = sel(a3 >= m0, a3, m0); m1 = sel(c3 >= m1, c3, m1); }
        }
        if (w0 == VW) st(out + i, m0); else st_part(out + i, m0, w0);
        if (w1 == VW) st(out + i + VW, m1); else if (w1 > 0) st_part(out + i + VW, m1, w1);
    }
}
#undef DRL_DOT_TILE

static const drl_kernel_table K(table) = {
    K(exp), K(log), K(tanh), K(sigmoid), K(softplus), K(gelu),
    K(exp_backward), K(log_backward), K(tanh_backward), K(sigmoid_backward), K(softplus_backward), K(gelu_backward),
    K(softmax_rows), K(log_softmax_rows), K(softmax_backward_rows), K(log_softmax_backward_rows),
    K(layernorm_rows), K(sum), K(max), K(row_sums), K(row_maxes), K(column_sums),
    K(adam_update), K(sgd_update), K(relu), K(relu_backward), K(layernorm_backward_rows), K(layernorm_parameter_gradients),
    K(gru_forward_step),
    K(gru_backward_step), K(first_nonfinite), K(first_greater), K(lstm_forward_step), K(lstm_backward_step),
    K(max_dot_rows),
};

#undef DRL_UNARY
#undef DRL_VEC
#undef DRL_BACKWARD
#undef vf
#undef vi
#undef ld
#undef st
#undef ld_part
#undef st_part
#undef sel
#undef vmin
#undef vmax
#undef vabs
#undef vfma
#undef hsum
#undef hmax
#undef v_exp_reduced
#undef v_pow2
#undef v_exp
#undef v_exp_nonpositive
#undef v_exp_saturating
#undef v_log
#undef v_tanh
#undef v_sigmoid
#undef v_softplus
#undef v_gelu
#undef v_gelu_derivative
#undef K
#undef DRL_CAT
#undef DRL_CAT2
