// Vector math shared by every instruction-set variant of the kernels. kernels_body.h includes this
// header once per variant (no include guard, on purpose) with VW set to the variant's vector width
// and every name below renamed per variant by macros, so each variant gets vectors of its width
// (the AVX2 variant's span two registers). The helpers carry no target attribute: they are always
// inlined into the callers and compiled for the caller's instruction set.


typedef float vf __attribute__((ext_vector_type(VW)));
typedef int vi __attribute__((ext_vector_type(VW)));

DRL_VEC vf ld(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
DRL_VEC void st(float *p, vf v) { memcpy(p, &v, sizeof v); }
// Loads k < VW floats, filling the remaining lanes with `fill`.
DRL_VEC vf ld_part(const float *p, long k, float fill) {
    vf v = fill;
    memcpy(&v, p, (size_t)k * sizeof(float));
    return v;
}
DRL_VEC void st_part(float *p, vf v, long k) { memcpy(p, &v, (size_t)k * sizeof(float)); }

DRL_VEC vf sel(vi mask, vf a, vf b) { return (vf)((mask & (vi)a) | (~mask & (vi)b)); }
DRL_VEC vf vmin(vf a, vf b) { return __builtin_elementwise_min(a, b); }
DRL_VEC vf vmax(vf a, vf b) { return __builtin_elementwise_max(a, b); }
DRL_VEC vf vabs(vf a) { return (vf)((vi)a & 0x7fffffff); }
#if DRL_HAS_FMA
DRL_VEC vf vfma(vf a, vf b, vf c) { return __builtin_elementwise_fma(a, b, c); }
#else
// Without FMA hardware a fused multiply-add would be a library call per element.
DRL_VEC vf vfma(vf a, vf b, vf c) { return a * b + c; }
#endif
// Horizontal sum by pairwise halving.
DRL_VEC float hsum(vf v) {
    float lanes[VW];
    memcpy(lanes, &v, sizeof v);
    for (int width = VW / 2; width > 0; width /= 2)
        for (int i = 0; i < width; i++) lanes[i] += lanes[i + width];
    return lanes[0];
}
DRL_VEC float hmax(vf v) { return __builtin_reduce_max(v); }

// e^t for t in exp's finite range, before the 2^n scale: t = n·ln2 + r with |r| <= ln2/2 (Cody-Waite
// reduction), then a degree-7 polynomial for e^r (max rel. error ~2 ulp). Returns e^r, sets *n.
DRL_VEC vf v_exp_reduced(vf t, vf *n_out) {
    // Round to nearest integer with the 1.5*2^23 trick (no SSE4.1 round needed).
    vf n = (t * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    vf r = vfma(n, -0.693359375f, t);
    r = vfma(n, 2.12194440e-4f, r);
    vf p = 1.9875691500e-4f;
    p = vfma(p, r, 1.3981999507e-3f);
    p = vfma(p, r, 8.3334519073e-3f);
    p = vfma(p, r, 4.1665795894e-2f);
    p = vfma(p, r, 1.6666665459e-1f);
    p = vfma(p, r, 5.0000001201e-1f);
    *n_out = n;
    return vfma(p, r * r, r + 1.0f);
}

// 2^n for integral n in [-126, 127].
DRL_VEC vf v_pow2(vf n) { return (vf)((__builtin_convertvector(n, vi) + 127) << 23); }

// exp: exact 0 below the denormal range, +inf above FLT_MAX, NaN propagates.
DRL_VEC vf v_exp(vf x) {
    vf n;
    vf e = v_exp_reduced(vmin(vmax(x, -104.0f), 88.7228394f), &n);
    // 2^n applied in two halves so that n in [-150, 128] never overflows the exponent field.
    vi ni = __builtin_convertvector(n, vi);
    vi n1 = ni >> 1;
    e = e * (vf)((n1 + 127) << 23) * (vf)((ni - n1 + 127) << 23);
    e = sel(x > 88.7228394f, (vf)INFINITY, e);
    return sel(x != x, x, e);
}

// exp for t <= 0 that is never NaN (softmax's x - max): one clamp, a single 2^n scale, and exact 0
// below the normal range. About a fifth cheaper than v_exp.
DRL_VEC vf v_exp_nonpositive(vf t) {
    vf n;
    vf e = v_exp_reduced(vmax(t, -87.3365479f), &n) * v_pow2(n);
    return sel(t < -87.3365479f, (vf)0.0f, e);
}

// exp with its argument clamped to [-87.3, 88.3], so 2^n needs one scale and no special cases:
// results saturate at about 1.2e-38 and 2.1e38 instead of reaching 0 and inf. For callers that
// only ever use 1 + exp(t) or 1 / (1 + exp(t)), where saturation changes nothing that matters.
DRL_VEC vf v_exp_saturating(vf t) {
    vf n;
    vf e = v_exp_reduced(vmin(vmax(t, -87.3365479f), 88.3762626f), &n);
    return e * v_pow2(n);
}

// Natural log: exponent/mantissa split and a degree-9 polynomial on [sqrt(1/2), sqrt(2)).
// log(0) = -inf, log(x<0) = NaN, log(inf) = inf; denormals are handled.
DRL_VEC vf v_log(vf x) {
    vi denormal = x < 1.17549435e-38f;
    vf xs = sel(denormal, x * 8388608.0f, x);
    vi bits = (vi)xs;
    vi e = ((bits >> 23) & 0xff) - 127 - (denormal & 23);
    vf m = (vf)((bits & 0x007fffff) | 0x3f800000);
    vi big = m > 1.41421356f;
    m = sel(big, m * 0.5f, m);
    e = e - big;
    vf f = m - 1.0f;
    vf z = f * f;
    vf p = 7.0376836292e-2f;
    p = vfma(p, f, -1.1514610310e-1f);
    p = vfma(p, f, 1.1676998740e-1f);
    p = vfma(p, f, -1.2420140846e-1f);
    p = vfma(p, f, 1.4249322787e-1f);
    p = vfma(p, f, -1.6668057665e-1f);
    p = vfma(p, f, 2.0000714765e-1f);
    p = vfma(p, f, -2.4999993993e-1f);
    p = vfma(p, f, 3.3333331174e-1f);
    vf ef = __builtin_convertvector(e, vf);
    vf y = f * z * p;
    y = vfma(ef, -2.12194440e-4f, y);
    y = vfma(z, -0.5f, y);
    y = f + y;
    y = vfma(ef, 0.693359375f, y);
    y = sel(x == (vf)INFINITY, x, y);
    y = sel(x == 0.0f, (vf)(-INFINITY), y);
    return sel((x < 0.0f) | (x != x), (vf)NAN, y);
}

// tanh: odd polynomial near 0 (no cancellation), 1 - 2/(exp(2|x|)+1) elsewhere.
DRL_VEC vf v_tanh(vf x) {
    vf a = vabs(x);
    vf z = x * x;
    vf p = -5.70498872745e-3f;
    p = vfma(p, z, 2.06390887954e-2f);
    p = vfma(p, z, -5.37397155531e-2f);
    p = vfma(p, z, 1.33314422036e-1f);
    p = vfma(p, z, -3.33332819422e-1f);
    vf small = vfma(x * z, p, x);
    vf large = 1.0f - 2.0f / (v_exp(a + a) + 1.0f);
    large = (vf)(((vi)large & 0x7fffffff) | ((vi)x & (int)0x80000000));
    return sel(a < 0.625f, small, large);
}

DRL_VEC vf v_sigmoid(vf x) { return 1.0f / (1.0f + v_exp(-x)); }

// softplus(x) = max(x, 0) + log1p(exp(-|x|)), with log1p(u) = log(w) * u / (w - 1), w = 1 + u.
DRL_VEC vf v_softplus(vf x) {
    vf u = v_exp(-vabs(x));
    vf w = 1.0f + u;
    vf l = sel(w == 1.0f, u, v_log(w) * u / (w - 1.0f));
    vf y = vmax(x, 0.0f) + l;
    return sel(x != x, x, y);
}


// GELU, tanh form: 0.5 x (1 + tanh(u)) = x * sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3).
DRL_VEC vf v_gelu(vf x) {
    vf u = DRL_GELU_K0 * vfma(DRL_GELU_K1 * x * x, x, x);
    vf y = x / (1.0f + v_exp_saturating(-2.0f * u));
    return sel(x < -20.0f, (vf)0.0f, y);
}

DRL_VEC vf v_gelu_derivative(vf x) {
    vf x2 = x * x;
    vf u = DRL_GELU_K0 * vfma(DRL_GELU_K1 * x2, x, x);
    vf e = v_exp_saturating(-2.0f * u);
    vf s = 1.0f / (1.0f + e);
    // s(1 - s), with 1 - s = e·s where s is near 1 (no cancellation).
    vf s_complement = sel(e <= 1.0f, e * s, 1.0f - s);
    vf du = DRL_GELU_K0 * vfma((vf)(3.0f * DRL_GELU_K1), x2, 1.0f);
    vf d = vfma(x * s * s_complement, 2.0f * du, s);
    d = sel(x < -20.0f, (vf)0.0f, d);
    return sel(x > 20.0f, (vf)1.0f, d);
}
