"""Parity with torch.nn.LSTM / GRU / RNN and the cells: an independent oracle, loaded through
load_state_dict(torch_module.state_dict()) exactly as a user would. Outputs, input and state
gradients, and every parameter gradient, with random upstream gradients."""
import numpy as np
import pytest
import torch  # the test extra installs it: a missing oracle must fail, not skip

import fastrnn

LAYERS = [
    ("LSTM", fastrnn.LSTM, torch.nn.LSTM, {}),
    ("GRU", fastrnn.GRU, torch.nn.GRU, {}),
    ("RNN_TANH", fastrnn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    ("RNN_RELU", fastrnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
]
OPTIONS = {
    "plain":         (5, 3, 4, 7, {}),
    "T=1":           (1, 3, 4, 7, {}),
    "H=1":           (4, 2, 3, 1, {}),
    "H=37":          (3, 2, 5, 37, {}),
    "B=1":           (6, 1, 4, 7, {}),
    "2layers-bidir": (3, 2, 4, 5, dict(num_layers=2, bidirectional=True)),
    "batch_first":   (4, 3, 5, 6, dict(batch_first=True, num_layers=2)),
    "no-bias":       (4, 3, 5, 6, dict(bias=False)),
    "unbatched":     (4, None, 5, 6, dict(bidirectional=True)),
}
# float32 against torch's float32 (oneDNN): both round differently from the exact result, and
# torch has no float64 reference run beside it for the rule, so fixed tolerances (rtol about 170
# float32 eps) serve these short sequences (T <= 6).
TOL = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=2e-5, atol=2e-6)}


def _torch_dtype(dtype):
    return torch.float64 if dtype == "float64" else torch.float32


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("mode,cls,tcls,kw", LAYERS, ids=[m for m, *_ in LAYERS])
@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_layer_matches_torch(rng, backend, mode, cls, tcls, kw, option, dtype):
    T, B, I, H, opts = OPTIONS[option]
    torch.manual_seed(int(rng.integers(2**31)))
    tm = tcls(I, H, **kw, **opts).to(_torch_dtype(dtype))
    fm = cls(I, H, **kw, **opts, backend=backend, dtype=dtype)
    fm.load_state_dict(tm.state_dict())

    lead = (T,) if B is None else ((B, T) if opts.get("batch_first") else (T, B))
    D = 2 if opts.get("bidirectional") else 1
    L = opts.get("num_layers", 1)
    state_shape = (L * D, H) if B is None else (L * D, B, H)
    n_state = 2 if mode == "LSTM" else 1
    x = rng.standard_normal(lead + (I,)).astype(dtype)
    hx = [rng.standard_normal(state_shape).astype(dtype) for _ in range(n_state)]
    gy = rng.standard_normal(lead + (D * H,)).astype(dtype)
    ghx = [rng.standard_normal(state_shape).astype(dtype) for _ in range(n_state)]

    xt = torch.tensor(x, requires_grad=True)
    hxt = [torch.tensor(h, requires_grad=True) for h in hx]
    yt, st = tm(xt, tuple(hxt) if mode == "LSTM" else hxt[0])
    st = list(st) if mode == "LSTM" else [st]
    torch.autograd.backward([yt] + st, [torch.tensor(gy)] + [torch.tensor(g) for g in ghx])

    if mode == "LSTM":
        y, s = fm(x, tuple(hx))
        gx, gs0 = fm.backward(gy, tuple(ghx))
    else:
        y, s = fm(x, hx[0])
        gx, gs0 = fm.backward(gy, ghx[0])
        s, gs0 = (s,), (gs0,)
    tol = TOL[dtype]
    np.testing.assert_allclose(y, yt.detach().numpy(), **tol, err_msg="y")
    for i in range(n_state):
        np.testing.assert_allclose(s[i], st[i].detach().numpy(), **tol, err_msg=f"state_n[{i}]")
        np.testing.assert_allclose(gs0[i], hxt[i].grad.numpy(), **tol, err_msg=f"grad state0[{i}]")
    np.testing.assert_allclose(gx, xt.grad.numpy(), **tol, err_msg="grad_x")
    assert list(fm.grads) == [n for n, _ in tm.named_parameters()]
    for name, prm in tm.named_parameters():
        np.testing.assert_allclose(fm.grads[name], prm.grad.numpy(), **tol, err_msg=name)


CELLS = [
    ("LSTM", fastrnn.LSTMCell, torch.nn.LSTMCell, {}),
    ("GRU", fastrnn.GRUCell, torch.nn.GRUCell, {}),
    ("RNN_TANH", fastrnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    ("RNN_RELU", fastrnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("B", [1, 4, None], ids=["B=1", "B=4", "unbatched"])
@pytest.mark.parametrize("H", [1, 37])
@pytest.mark.parametrize("mode,cls,tcls,kw", CELLS, ids=[m for m, *_ in CELLS])
def test_cell_matches_torch(rng, mode, cls, tcls, kw, H, B, dtype):
    I = 5
    torch.manual_seed(int(rng.integers(2**31)))
    tc = tcls(I, H, **kw).to(_torch_dtype(dtype))
    fc = cls(I, H, **kw, dtype=dtype)
    fc.load_state_dict(tc.state_dict())
    lead = () if B is None else (B,)
    x = rng.standard_normal(lead + (I,)).astype(dtype)
    n_state = 2 if mode == "LSTM" else 1
    hx = [rng.standard_normal(lead + (H,)).astype(dtype) for _ in range(n_state)]
    gout = [rng.standard_normal(lead + (H,)).astype(dtype) for _ in range(n_state)]

    xt = torch.tensor(x, requires_grad=True)
    hxt = [torch.tensor(h, requires_grad=True) for h in hx]
    out_t = tc(xt, tuple(hxt) if mode == "LSTM" else hxt[0])
    out_t = list(out_t) if mode == "LSTM" else [out_t]
    torch.autograd.backward(out_t, [torch.tensor(g) for g in gout])

    out = fc(x, tuple(hx)) if mode == "LSTM" else (fc(x, hx[0]),)
    gx, gs = fc.backward(*gout)
    gs = gs if mode == "LSTM" else (gs,)
    tol = TOL[dtype]
    for i in range(n_state):
        np.testing.assert_allclose(out[i], out_t[i].detach().numpy(), **tol, err_msg=f"out[{i}]")
        np.testing.assert_allclose(gs[i], hxt[i].grad.numpy(), **tol, err_msg=f"grad state[{i}]")
    np.testing.assert_allclose(gx, xt.grad.numpy(), **tol, err_msg="grad_x")
    assert set(fc.grads) == {n for n, _ in tc.named_parameters()}
    for name, prm in tc.named_parameters():
        np.testing.assert_allclose(fc.grads[name], prm.grad.numpy(), **tol, err_msg=name)


@pytest.mark.parametrize("mode,fn,tfn", [
    ("LSTM", fastrnn.lstm_cell, torch.nn.LSTMCell),
    ("GRU", fastrnn.gru_cell, torch.nn.GRUCell),
    ("RNN_TANH", fastrnn.rnn_cell, torch.nn.RNNCell),
])
def test_functional_cell_matches_torch(rng, mode, fn, tfn):
    tc = tfn(3, 6).double()
    w = [p.detach().numpy() for p in (tc.weight_ih, tc.weight_hh, tc.bias_ih, tc.bias_hh)]
    x = rng.standard_normal((2, 3))
    if mode == "LSTM":
        h, c = rng.standard_normal((2, 6)), rng.standard_normal((2, 6))
        got = fn(x, (h, c), *w)
        want = tc(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-14)
    else:
        h = rng.standard_normal((2, 6))
        np.testing.assert_allclose(fn(x, h, *w), tc(torch.tensor(x), torch.tensor(h)).detach().numpy(),
                                   rtol=1e-12, atol=1e-14)
