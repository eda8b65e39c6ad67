"""The reference's hand-written BPTT against central finite differences, in float64.

Checks the whole functional stack on backend="reference" (layers, directions, batch_first),
so every gradient the kernels are later compared with is itself verified here."""
import numpy as np
import pytest
from helpers import MODES, make_problem

from fastrnn import functional


def _loss(p, x, hx, weights):
    """Scalar whose gradients are exactly the upstream gradients in p: <grad_y, y> + <grad_hx, hx_n>."""
    y, hx_n, _ = functional.forward(p["mode"], x, hx, weights, num_layers=p["num_layers"],
                                    bidirectional=p["bidirectional"], batch_first=p["batch_first"],
                                    backend="reference", need_grad=False, dtype="float64")
    return np.sum(p["grad_y"] * y) + sum(np.sum(g * s) for g, s in zip(p["grad_hx"], hx_n))


def _numeric_grad(f, a, h=1e-6):
    """Central differences of f() w.r.t. every element of a (modified in place, restored)."""
    g = np.empty_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + h
        up = f()
        a[idx] = old - h
        down = f()
        a[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


CASES = [
    dict(num_layers=1, bidirectional=False, batch_first=False),
    dict(num_layers=2, bidirectional=True, batch_first=True),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=["1layer", "2layers-bidir-batchfirst"])
def test_reference_bptt_matches_finite_differences(rng, mode, case):
    p = make_problem(rng, mode, T=3, B=2, I=3, H=4, **case)
    x, hx, w = p["x"], tuple(s.copy() for s in p["hx"]), {k: v.copy() for k, v in p["weights"].items()}
    kw = {k: p[k] for k in ("num_layers", "bidirectional", "batch_first")}
    _, _, ctx = functional.forward(mode, x, hx, w, backend="reference", dtype="float64", **kw)
    gx, ghx, grads = functional.backward(ctx, p["grad_y"], p["grad_hx"])

    f = lambda: _loss(p, x, hx, w)   # noqa: E731
    checks = [("x", gx, x)] + [(f"state0[{i}]", g, s) for i, (g, s) in enumerate(zip(ghx, hx))]
    checks += [(k, grads[k], w[k]) for k in w]
    for name, analytic, arr in checks:
        numeric = _numeric_grad(f, arr)
        # Central differences with h=1e-6 on O(1) values: truncation ~1e-12, rounding ~1e-10.
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8, err_msg=name)
