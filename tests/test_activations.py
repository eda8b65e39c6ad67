"""The kernels' sigmoid and tanh over the whole float32 range, saturation and specials included.

float32 uses fastrnn's own vectorisable exp; float64 uses libm. The bound is in ulp of the
correctly rounded float32 result (numpy's own float32 sigmoid reaches 3.7 ulp here)."""
import numpy as np
import pytest

from fastrnn.kernels.cpu.cells.activations import sigmoid, tanh
from fastrnn.kernels.cpu.runtime.jit import kernel


@kernel
def _apply(x, s, t):
    for j in range(x.size):
        s[j] = sigmoid(x[j])
        t[j] = tanh(x[j])


def _apply_np(x):
    s, t = np.empty_like(x), np.empty_like(x)
    _apply(x, s, t)
    return s, t


def _exact(x):
    x = x.astype(np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)), np.tanh(x)


def _ulp_error(got, exact):
    spacing = np.spacing(np.abs(exact.astype(np.float32))).astype(np.float64)
    spacing = np.maximum(spacing, float(np.finfo(np.float32).smallest_subnormal))
    return np.abs(got.astype(np.float64) - exact) / spacing


def _all_float32_sample(step):
    # Every `step`-th bit pattern of the finite positive floats, and their negatives: this walks
    # denormals, the small-|x| polynomial region, the switch points and saturation alike.
    bits = np.arange(0, 0x7F800000, step, dtype=np.int64).astype(np.uint32)
    pos = bits.view(np.float32)
    return np.concatenate([pos, -pos])


def test_float32_ulp_error_over_the_whole_range():
    x = _all_float32_sample(step=61)
    s, t = _apply_np(x)
    es, et = _exact(x)
    ulp_s, ulp_t = _ulp_error(s, es), _ulp_error(t, et)
    assert ulp_s.max() <= 3.0, f"sigmoid: {ulp_s.max():.2f} ulp at x={x[ulp_s.argmax()]!r}"
    assert ulp_t.max() <= 2.0, f"tanh: {ulp_t.max():.2f} ulp at x={x[ulp_t.argmax()]!r}"


def test_float32_dense_around_the_branch_points():
    # tanh switches formula at |x| = 0.625; exp reduces by ln 2 around every k ln 2.
    x = np.linspace(-12, 12, 2_000_001, dtype=np.float32)
    s, t = _apply_np(x)
    es, et = _exact(x)
    assert _ulp_error(s, es).max() <= 3.0
    assert _ulp_error(t, et).max() <= 2.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_values(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e4, -1e4, 88.8, -88.8, 104.5, -104.5], dtype=dtype)
    s, t = _apply_np(x)
    assert np.isnan(s[0]) and np.isnan(t[0]), "NaN must propagate"
    assert s[1] == 1 and s[2] == 0 and t[1] == 1 and t[2] == -1
    assert s[3] == 0.5 and s[4] == 0.5 and t[3] == 0 and t[4] == 0
    assert s[5] == 1 and s[6] == 0 and t[5] == 1 and t[6] == -1
    assert np.all(np.isfinite(s[1:])) and np.all(np.isfinite(t[1:]))
    assert np.all((s[1:] >= 0) & (s[1:] <= 1)) and np.all(np.abs(t[1:]) <= 1)


def test_float64_matches_libm():
    x = np.random.default_rng(0).standard_normal(100_000) * 20
    s, t = _apply_np(x)
    es, et = _exact(x)
    # libm's and numpy's float64 tanh may round differently: allow one ulp (2 eps relative).
    one_ulp = 2 * np.finfo(np.float64).eps
    np.testing.assert_allclose(s, es, rtol=one_ulp, atol=0)
    np.testing.assert_allclose(t, et, rtol=one_ulp, atol=0)
