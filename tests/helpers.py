"""Shared by the tests: random problems, one call that runs forward+backward on any backend,
and the tolerance rule (flash-attention's): a float32 kernel's error against the float64
reference may be at most RULE_FACTOR times the float32 error to expect, plus a small floor."""
import numpy as np

from fastrnn import functional

MODES = ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"]
EPS32 = float(np.finfo(np.float32).eps)
# 5, not flash-attention's 2. The float32 reference sums a weight gradient over B per step, then
# over T; the kernels' GEMMs sum over all T*B rows at once (in blocks of 256). On the 2-layer
# bidirectional test_cpu_float32_longer_sequence (T=40, B=4, H=48, 160 terms), over 4000 seeds per
# cell the factor needed to pass had median 0.5, 99th percentile 2.3 (LSTM) and 2.6 (GRU), and
# maximum 4.62 (LSTM) and 4.47 (GRU); at 3, 0.2% (LSTM) and 0.6% (GRU) of runs failed. Every
# failure was a weight gradient whose error fell to the reference's own (4.2e-6 -> 3.4e-7, for
# example) when the GEMMs summed in float64: the order of the sum, not a wrong term. The bounds
# there are 1e-6 to 1e-5, on gradients of size 1 to 20, so a wrong term still fails.
RULE_FACTOR = 5


def make_problem(rng, mode, T, B, I, H, num_layers=1, bidirectional=False, bias=True,
                 batch_first=False, unbatched=False):
    """Random inputs, initial state, weights (torch's init range) and upstream gradients."""
    D = 2 if bidirectional else 1
    shapes = functional.param_shapes(mode, I, H, num_layers, bidirectional, bias)
    k = 1 / np.sqrt(H)
    weights = {n: rng.uniform(-k, k, s) for n, s in shapes.items()}
    lead = (T,) if unbatched else ((B, T) if batch_first else (T, B))
    state_shape = (num_layers * D, H) if unbatched else (num_layers * D, B, H)
    n_state = 2 if mode == "LSTM" else 1
    return dict(
        mode=mode, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
        x=rng.standard_normal(lead + (I,)),
        hx=tuple(rng.standard_normal(state_shape) for _ in range(n_state)),
        weights=weights,
        grad_y=rng.standard_normal(lead + (D * H,)),
        grad_hx=tuple(rng.standard_normal(state_shape) for _ in range(n_state)),
    )


def run(p, backend, dtype, lengths=None):
    """Forward and backward through fastrnn.functional -> {name: float64 array} of every result."""
    cast = lambda a: np.asarray(a, dtype=dtype)   # noqa: E731
    kw = dict(num_layers=p["num_layers"], bidirectional=p["bidirectional"],
              batch_first=p["batch_first"], backend=backend, dtype=dtype, lengths=lengths)
    weights = {k: cast(v) for k, v in p["weights"].items()}
    y, hx_n, ctx = functional.forward(p["mode"], cast(p["x"]), tuple(map(cast, p["hx"])), weights, **kw)
    gx, ghx0, grads = functional.backward(ctx, cast(p["grad_y"]), tuple(map(cast, p["grad_hx"])))
    out = {"y": y, "grad_x": gx}
    for i, (s, g) in enumerate(zip(hx_n, ghx0)):
        out[f"state_n[{i}]"] = s
        out[f"grad_state0[{i}]"] = g
    out.update({"grad_" + k: v for k, v in grads.items()})
    for name, a in out.items():
        assert a.dtype == np.dtype(dtype), f"{name} came back as {a.dtype}, not {np.dtype(dtype)}"
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def jittered(p):
    """p with every input, weight and upstream gradient moved by up to one float32 epsilon
    (relative), from a fixed stream so a test's seed still replays it."""
    rng = np.random.default_rng(0)
    move = lambda a: a * (1 + EPS32 * rng.uniform(-1, 1, np.shape(a)))   # noqa: E731
    return dict(p, x=move(p["x"]), hx=tuple(map(move, p["hx"])), grad_y=move(p["grad_y"]),
                grad_hx=tuple(map(move, p["grad_hx"])), weights={k: move(v) for k, v in p["weights"].items()})


def assert_within_rule(got, ref64, ref32, jitter64):
    """got and ref32 are float32 results, ref64 the float64 specification, jitter64 the float64
    reference on jittered(p); dicts of arrays.

    The float32 error to expect is the larger of ref32's own error and the spread between ref64
    and jitter64. The first alone is one sample: a weight gradient at H=1 is a single sum, and
    where its terms cancel, ref32 can land on the exact value by luck. With
    FASTRNN_TEST_SEED=4981240764177466170, RNN_RELU H=1's dW_hh (-0.854) sums six terms of total
    size 11.1: ref32 erred by 2.0e-9, the CUDA kernel by 7.2e-7 (0.54 eps of the terms), against a
    bound of 4.8e-7. The spread measures how much float32 rounding of its operands can move a
    result (its conditioning), which does not depend on one lucky order of rounding."""
    assert got.keys() == ref64.keys()
    for name in ref64:
        scale = max(1.0, float(np.abs(ref64[name]).max()))
        err = float(np.abs(got[name] - ref64[name]).max())
        base = max(float(np.abs(ref32[name] - ref64[name]).max()),
                   float(np.abs(jitter64[name] - ref64[name]).max()))
        bound = RULE_FACTOR * base + 4 * EPS32 * scale
        assert np.isfinite(err) and err <= bound, (
            f"{name}: error {err:.3g} vs float64 reference exceeds {RULE_FACTOR} x {base:.3g} (float32 "
            f"error to expect) + floor {4 * EPS32 * scale:.3g}")


def assert_close64(got, ref64, rtol=1e-12):
    """float64 against float64: the same math in another order, so only rounding may differ."""
    assert got.keys() == ref64.keys()
    for name in ref64:
        scale = max(1.0, float(np.abs(ref64[name]).max()))
        err = float(np.abs(got[name] - ref64[name]).max())
        assert np.isfinite(err) and err <= rtol * scale, f"{name}: error {err:.3g} > {rtol * scale:.3g}"


def assert_inference_matches_training(p, backend):
    """need_grad=False may keep less of what backward needs; the outputs must not change."""
    kw = dict(num_layers=p["num_layers"], bidirectional=p["bidirectional"], backend=backend, dtype="float64")
    y1, s1, ctx1 = functional.forward(p["mode"], p["x"], p["hx"], p["weights"], need_grad=True, **kw)
    y2, s2, ctx2 = functional.forward(p["mode"], p["x"], p["hx"], p["weights"], need_grad=False, **kw)
    assert ctx1 is not None and ctx2 is None
    np.testing.assert_array_equal(y1, y2)
    for a, b in zip(s1, s2):
        np.testing.assert_array_equal(a, b)


def use_weight_form(monkeypatch, form):
    """Make the CPU sweeps, forward and backward, read W_hh packed into panels ("packed") or in
    place ("in_place"), whatever the problem's size would pick (kernels/cpu/layer.*_PACK_ROWS)."""
    from fastrnn.kernels.cpu import layer
    rows = {"packed": 0, "in_place": 1 << 62}[form]
    monkeypatch.setattr(layer, "FORWARD_PACK_ROWS", rows)
    monkeypatch.setattr(layer, "BACKWARD_PACK_ROWS", rows)
