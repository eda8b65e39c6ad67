"""Gate activations for the @njit kernels: `sigmoid` and `tanh`, typed by their argument.

Why not math.exp / math.tanh: this llvmlite has no SVML, so those are scalar libm calls and a
loop that uses them cannot vectorise (4-10x slower on the gate loops). For float32 we build
exp from arithmetic only (Cody-Waite range reduction, a polynomial, and 2**k assembled
in the exponent bits) so LLVM vectorises every gate loop. float64 keeps the exact libm calls:
the float64 kernels are the ones checked tightly against the reference.

Accuracy (tests/test_activations.py sweeps the whole float32 range): a few ulp for sigmoid
and tanh, saturation included; NaN propagates (the clamps are written so a NaN passes them).
Callers must be compiled with error_model="numpy" (see kernels/cpu/runtime/jit.py): numba's default
zero-divisor check on `/` would stop the loops from vectorising.
"""
import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload


@intrinsic
def _f32_from_bits(typingctx, i):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@intrinsic
def _f32_to_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


_f = np.float32
_LOG2E = _f(1.4426950408889634)
_LN2_HI = _f(0.693145751953125)       # 9 trailing zero bits: k * _LN2_HI is exact for |k| <= 150
_LN2_LO = _f(1.4286068203094173e-06)  # ln 2 - _LN2_HI
_ROUND = _f(12582912.0)               # 1.5 * 2**23: x + _ROUND rounds x to an integer
_EXP_LO = _f(-104.0)                  # exp(-104) is 0 in float32 (below the smallest denormal)
_EXP_HI = _f(89.0)                    # exp(89) is inf in float32
_TANH_SMALL = _f(0.625)               # below: an odd polynomial; above: 1 - 2 / (exp(2x) + 1)
_ONE, _TWO, _HALF = _f(1.0), _f(2.0), _f(0.5)
# e^r = 1 + r + r^2 (E2 + E3 r + ... + E6 r^4) for |r| <= ln(2)/2: near-minimax coefficients for
# the relative error (weighted least squares with Lawson's reweighting, then rounded to float32):
# at most 0.05 ulp from the polynomial, where Taylor's needs one degree more (r^7/7!) for as little.
_E2, _E3, _E4, _E5, _E6 = (_f(c) for c in (
    0.4999999403953552, 0.1666652113199234, 0.04166838899254799, 0.0083687175065279, 0.0013814589474350214))
# tanh(x) = x + x s (T0 + T1 s + ... + T5 s^5), s = x^2, for |x| < 0.625: fitted as above, at most
# 0.03 ulp from the polynomial, where the Taylor series (Bernoulli numbers) needs ten terms.
_T0, _T1, _T2, _T3, _T4, _T5 = (_f(c) for c in (
    -0.3333333134651184, 0.1333320587873459, -0.05394676327705383, 0.021700697019696236,
    -0.008177382871508598, 0.002142949029803276))


@njit(inline="always")
def _exp_f32(x):
    # Written `hi if x > hi else x` so that a NaN falls through both clamps unchanged.
    x = _EXP_HI if x > _EXP_HI else x
    x = _EXP_LO if x < _EXP_LO else x
    t = x * _LOG2E + _ROUND
    k = t - _ROUND                                   # nearest integer to x / ln 2, as a float
    ki = _f32_to_bits(t) - _f32_to_bits(_ROUND)      # the same integer, from the mantissa bits
    r = (x - k * _LN2_HI) - k * _LN2_LO              # |r| <= ln(2)/2
    p = _ONE + r * (_ONE + r * (_E2 + r * (_E3 + r * (_E4 + r * (_E5 + r * _E6)))))
    # 2**k in two factors so each stays a normal float; their product reaches denormals and inf.
    k1 = ki >> 1
    k2 = ki - k1
    return p * _f32_from_bits((k1 + 127) << 23) * _f32_from_bits((k2 + 127) << 23)


@njit(inline="always")
def _sigmoid_f32(x):
    # e/(1+e) for x < 0 keeps full relative accuracy down to the denormals.
    e = _exp_f32(-abs(x))
    d = _ONE + e
    return _ONE / d if x >= 0 else e / d


@njit(inline="always")
def _tanh_f32(x):
    a = abs(x)
    big = _ONE - _TWO / (_exp_f32(_TWO * a) + _ONE)
    s = a * a
    p = _T5
    p = _T4 + s * p
    p = _T3 + s * p
    p = _T2 + s * p
    p = _T1 + s * p
    p = _T0 + s * p
    small = a + a * s * p
    y = small if a < _TANH_SMALL else big            # a NaN takes `big`, which is NaN
    return -y if x < 0 else y


@njit(inline="always")
def _sigmoid_f64(x):
    # Two forms so exp never overflows, and small outputs keep full relative accuracy.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(inline="always")
def _tanh_f64(x):
    return math.tanh(x)


def sigmoid(x):
    """Logistic function of one float32 or float64 scalar (for use inside @njit code)."""
    return 1.0 / (1.0 + np.exp(-x))


def tanh(x):
    """Hyperbolic tangent of one float32 or float64 scalar (for use inside @njit code)."""
    return np.tanh(x)


def _pick(f32_impl, f64_impl):
    def typer(x):
        if isinstance(x, types.Float):
            return f32_impl if x.bitwidth == 32 else f64_impl
        return None
    return typer


# The overloads compile the plain Python bodies for the caller's type; LLVM inlines them,
# so each gate loop is one straight-line body that LLVM can vectorise. "contract" lets LLVM fuse
# each multiply-add (the polynomials, the range reduction) into one FMA: float32 sigmoid 1.02 ->
# 0.76 ns, tanh 1.59 -> 1.12 ns per element, with the same worst case over the float32 range
# (2.33 ulp sigmoid, 1.28 -> 1.30 ulp tanh; tests/test_activations.py).
_CONTRACT = {"fastmath": {"contract"}}
overload(sigmoid, jit_options=_CONTRACT)(_pick(_sigmoid_f32.py_func, _sigmoid_f64.py_func))
overload(tanh, jit_options=_CONTRACT)(_pick(_tanh_f32.py_func, _tanh_f64.py_func))
