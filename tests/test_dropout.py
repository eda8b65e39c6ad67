"""Dropout between stacked layers: torch's semantics (every layer's output but the last, inverted
scaling, training mode only), deterministic given the seed, wired into backward."""
import numpy as np
import pytest
from helpers import MODES, make_problem

import fastrnn
from fastrnn import functional


def _both_passes(p, backend="cpu", **kw):
    y, hx, ctx = functional.forward(p["mode"], p["x"], p["hx"], p["weights"], num_layers=p["num_layers"],
                                    bidirectional=p["bidirectional"], backend=backend, dtype="float64", **kw)
    gx, ghx, grads = functional.backward(ctx, p["grad_y"], p["grad_hx"])
    return [y, *hx, gx, *ghx, *grads.values()]


@pytest.mark.parametrize("backend", ["cpu", "reference", "cuda"])
@pytest.mark.parametrize("mode", MODES)
def test_dropout_is_a_mask_between_layers(rng, mode, backend):
    # The same as running the layers one by one and multiplying by the same masks in between.
    p = make_problem(rng, mode, 5, 3, 4, 6, num_layers=3, bidirectional=True)
    got = _both_passes(p, backend, dropout=0.4, dropout_rng=123)

    masks_rng = np.random.default_rng(123)
    D, L = 2, 3
    x, states, ctxs, masks = p["x"], [], [], []
    for layer in range(L):
        if layer:
            masks.append((masks_rng.random(x.shape) >= 0.4) / 0.6)
            x = x * masks[-1]
        w = {k.replace(f"_l{layer}", "_l0"): v for k, v in p["weights"].items() if f"_l{layer}" in k}
        hx = tuple(h[layer * D:(layer + 1) * D] for h in p["hx"])
        x, st, ctx = functional.forward(mode, x, hx, w, bidirectional=True, backend=backend, dtype="float64")
        states.append(st)
        ctxs.append(ctx)
    want_y, g = x, p["grad_y"]
    want_grads, ghx0 = {}, [None] * L
    for layer in reversed(range(L)):
        ghx = tuple(h[layer * D:(layer + 1) * D] for h in p["grad_hx"])
        g, ghx0[layer], grads = functional.backward(ctxs[layer], g, ghx)
        want_grads.update({k.replace("_l0", f"_l{layer}"): v for k, v in grads.items()})
        if layer:
            g = g * masks[layer - 1]
    want = [want_y, *(np.concatenate([s[i] for s in states]) for i in range(len(p["hx"]))), g,
            *(np.concatenate([h[i] for h in ghx0]) for i in range(len(p["hx"]))),
            *(want_grads[k] for k in functional.param_names(L, True))]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_no_dropout_on_one_layer_or_at_zero(rng):
    p1 = make_problem(rng, "GRU", 5, 3, 4, 6)
    for a, b in zip(_both_passes(p1, dropout=0.5, dropout_rng=0), _both_passes(p1)):
        np.testing.assert_array_equal(a, b)       # one layer: nothing between layers
    p2 = make_problem(rng, "GRU", 5, 3, 4, 6, num_layers=2)
    for a, b in zip(_both_passes(p2, dropout=0.0, dropout_rng=0), _both_passes(p2)):
        np.testing.assert_array_equal(a, b)


def test_layer_dropout_is_seeded_and_off_in_eval_mode(rng):
    x = rng.standard_normal((6, 4, 3)).astype(np.float32)
    a = fastrnn.LSTM(3, 8, num_layers=2, dropout=0.5, seed=7)
    b = fastrnn.LSTM(3, 8, num_layers=2, dropout=0.5, seed=7)
    plain = fastrnn.LSTM(3, 8, num_layers=2, seed=7)
    ya1, ya2, yb1 = a(x)[0], a(x)[0], b(x)[0]
    np.testing.assert_array_equal(ya1, yb1)                  # same seed, same masks
    assert not np.array_equal(ya1, ya2)                     # a new mask per call
    np.testing.assert_array_equal(a.eval()(x)[0], plain(x)[0])
    assert a.train() is a and a.training


def test_dropout_probability_is_checked():
    with pytest.raises(ValueError, match="dropout"):
        fastrnn.GRU(3, 4, num_layers=2, dropout=1.0)
    with pytest.raises(ValueError, match="dropout"):
        fastrnn.GRU(3, 4, num_layers=2, dropout=-0.1)


def test_dropout_rate_and_scale(rng):
    # Inverted dropout: about p of the units zeroed, the rest scaled by 1/(1-p).
    mask = functional._dropout_mask(functional.HostOps, (200, 50, 10), 0.3, np.random.default_rng(0), np.float64)
    assert abs((mask == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(np.unique(mask), [0, 1 / 0.7])
