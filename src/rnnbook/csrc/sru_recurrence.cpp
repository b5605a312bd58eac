// Fused elementwise recurrence of the SRU (Lei et al. 2018), forward and backward.
//
// Plain C++ (no torch headers, so it compiles in about a second); rnnbook.kernels.loader
// builds and loads it, rnnbook.kernels.cpp_sru calls it with ctypes after the boundary
// checks of rnnbook.kernels.boundary, and rnnbook.kernels.recurrence wraps it in a
// torch.autograd.Function.
//
// Non-finite values: every expression is written in the order PyTorch's reference step
// evaluates it (f*c + (1-f)*x, not x + f*(c-x); sigmoid' = (g*(1-y))*y), the float exp
// overflows to +inf like libm's, and the build keeps -fno-finite-math-only, so NaN and
// +-inf land where the reference path puts them.
//
// Layout: U is (T, N, K*H) holding the projections [W x_t, W_f x_t, W_r x_t, (W_s x_t)];
// skip rows have stride `skip_stride` (the input x itself, or U's fourth block).
// Every (n, j) column is an independent scan over t, so the batch is split across threads
// and the innermost loop runs over j (vectorised).
#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

// exp for float, inlined so the loops vectorise without a libm call: Cephes' expf
// (x = k ln2 + r, |r| <= ln2 / 2, degree-6 polynomial for e^r, 2^k from the exponent bits);
// relative error about 2e-7, like libm's. Beyond the float range it returns +inf (so a
// sigmoid saturates to exactly 0, as torch.sigmoid does) and about 1.6e-38 below it.
inline float exp_inline(float x_in) {
    const float x = x_in < -87.0f ? -87.0f : (x_in > 88.0f ? 88.0f : x_in);
    const float k = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    const float r = (x - k * 0.693359375f) + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
    float scale;
    __builtin_memcpy(&scale, &bits, sizeof scale);
    return x_in > 88.72f ? __builtin_inff() : p * scale;  // NaN stays NaN through p
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp_inline(-x)); }
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

template <typename F>
void parallel_batches(int64_t batch, int64_t threads, F fn) {
    if (threads <= 1 || batch <= 1) { fn(0, batch); return; }
    if (threads > batch) threads = batch;
    std::vector<std::thread> pool;
    const int64_t chunk = (batch + threads - 1) / threads;
    for (int64_t begin = chunk; begin < batch; begin += chunk) {
        const int64_t end = begin + chunk < batch ? begin + chunk : batch;
        pool.emplace_back(fn, begin, end);
    }
    fn(0, chunk < batch ? chunk : batch);
    for (auto& worker : pool) worker.join();
}

template <typename T>
void forward(const T* U, const T* skip, int64_t skip_stride, const T* weight_c, const T* bias,
             const T* c0, double alpha_d, int64_t len, int64_t batch, int64_t hidden, int64_t k,
             T* h_out, T* c_out, int64_t threads) {
    const T alpha = T(alpha_d);
    const T* vf = weight_c;
    const T* vr = weight_c + hidden;
    parallel_batches(batch, threads, [=](int64_t n0, int64_t n1) {
        // t outer, n inner: rows (t, n0..n1) are contiguous, so memory is read as a stream
        for (int64_t t = 0; t < len; ++t) {
            for (int64_t n = n0; n < n1; ++n) {
                const int64_t row = t * batch + n;
                const T* c_prev = t > 0 ? c_out + (row - batch) * hidden : c0 + n * hidden;
                const T* u = U + row * k * hidden;
                const T* s = skip + row * skip_stride;
                T* c = c_out + row * hidden;
                T* h = h_out + row * hidden;
#pragma GCC ivdep
                for (int64_t j = 0; j < hidden; ++j) {
                    const T bf = bias[j];
                    const T br = bias[hidden + j];
                    const T cp = c_prev[j];
                    const T f = sigmoid(u[hidden + j] + vf[j] * cp + bf);
                    const T r = sigmoid(u[2 * hidden + j] + vr[j] * cp + br);
                    const T x_tilde = u[j];
                    // c_t = f ⊙ c_{t-1} + (1 - f) ⊙ x̃_t
                    const T cn = f * cp + (T(1) - f) * x_tilde;
                    const T as = alpha * s[j];
                    c[j] = cn;
                    // h_t = r ⊙ c_t + (1 - r) ⊙ α s_t
                    h[j] = r * cn + (T(1) - r) * as;
                }
            }
        }
    });
}

template <typename T>
void backward(const T* U, const T* skip, int64_t skip_stride, const T* weight_c, const T* bias,
              const T* c0, double alpha_d, const T* c_all, const T* grad_h, const T* grad_cn,
              int64_t len, int64_t batch, int64_t hidden, int64_t k, T* grad_U,
              T* grad_skip, int64_t grad_skip_stride, T* grad_wc_rows, T* grad_bias_rows,
              T* grad_c0, int64_t threads) {
    const T alpha = T(alpha_d);
    const T* vf = weight_c;
    const T* vr = weight_c + hidden;
    parallel_batches(batch, threads, [=](int64_t n0, int64_t n1) {
        for (int64_t n = n0; n < n1; ++n) {
            for (int64_t j = 0; j < hidden; ++j) {
                grad_c0[n * hidden + j] = grad_cn[n * hidden + j];
                grad_wc_rows[n * 2 * hidden + j] = grad_wc_rows[n * 2 * hidden + hidden + j] = T(0);
                grad_bias_rows[n * 2 * hidden + j] = grad_bias_rows[n * 2 * hidden + hidden + j] = T(0);
            }
        }
        for (int64_t t = len - 1; t >= 0; --t) {
            for (int64_t n = n0; n < n1; ++n) {
                T* gc = grad_c0 + n * hidden;  // running dL/dc_t, finally dL/dc_0
                T* gvf = grad_wc_rows + n * 2 * hidden;
                T* gvr = gvf + hidden;
                T* gbf = grad_bias_rows + n * 2 * hidden;
                T* gbr = gbf + hidden;
                const int64_t row = t * batch + n;
                const T* u = U + row * k * hidden;
                const T* s = skip + row * skip_stride;
                const T* c = c_all + row * hidden;
                const T* c_prev = t > 0 ? c_all + (row - batch) * hidden : c0 + n * hidden;
                const T* gh = grad_h + row * hidden;
                T* gu = grad_U + row * k * hidden;
                T* gs = grad_skip + row * grad_skip_stride;
#pragma GCC ivdep
                for (int64_t j = 0; j < hidden; ++j) {
                    const T bf = bias[j];
                    const T br = bias[hidden + j];
                    const T cp = c_prev[j];
                    const T f = sigmoid(u[hidden + j] + vf[j] * cp + bf);
                    const T r = sigmoid(u[2 * hidden + j] + vr[j] * cp + br);
                    const T as = alpha * s[j];
                    // h_t = r ⊙ c_t + (1 - r) ⊙ α s_t
                    const T g_r = gh[j] * c[j] - gh[j] * as;
                    const T g_c = gc[j] + gh[j] * r;
                    gs[j] = gh[j] * (T(1) - r) * alpha;
                    // c_t = f ⊙ c_{t-1} + (1 - f) ⊙ x̃_t
                    const T g_f = g_c * cp - g_c * u[j];
                    gu[j] = g_c * (T(1) - f);
                    // σ'(z) = σ(z) (1 - σ(z)), in torch's order: (g (1 - y)) y
                    const T g_zf = g_f * (T(1) - f) * f;
                    const T g_zr = g_r * (T(1) - r) * r;
                    gu[hidden + j] = g_zf;
                    gu[2 * hidden + j] = g_zr;
                    gbf[j] += g_zf;
                    gbr[j] += g_zr;
                    gvf[j] += g_zf * cp;
                    gvr[j] += g_zr * cp;
                    gc[j] = g_c * f + g_zf * vf[j] + g_zr * vr[j];
                }
            }
        }
    });
}

}  // namespace

extern "C" {

#define SRU_EXPORT(T, SUFFIX)                                                                    \
    void sru_forward_##SUFFIX(const T* U, const T* skip, int64_t skip_stride, const T* wc,      \
                              const T* bias, const T* c0, double alpha, int64_t len,            \
                              int64_t batch, int64_t hidden, int64_t k, T* h, T* c,             \
                              int64_t threads) {                                                 \
        forward<T>(U, skip, skip_stride, wc, bias, c0, alpha, len, batch, hidden, k, h, c,      \
                   threads);                                                                     \
    }                                                                                            \
    void sru_backward_##SUFFIX(const T* U, const T* skip, int64_t skip_stride, const T* wc,     \
                               const T* bias, const T* c0, double alpha, const T* c_all,        \
                               const T* grad_h, const T* grad_cn, int64_t len, int64_t batch,   \
                               int64_t hidden, int64_t k, T* grad_U, T* grad_skip,              \
                               int64_t grad_skip_stride, T* grad_wc_rows, T* grad_bias_rows,    \
                               T* grad_c0, int64_t threads) {                                    \
        backward<T>(U, skip, skip_stride, wc, bias, c0, alpha, c_all, grad_h, grad_cn, len,     \
                    batch, hidden, k, grad_U, grad_skip, grad_skip_stride, grad_wc_rows,        \
                    grad_bias_rows, grad_c0, threads);                                           \
    }

SRU_EXPORT(float, f32)
SRU_EXPORT(double, f64)

int sru_abi_version() { return 2; }
}
