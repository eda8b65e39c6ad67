"""Variable-length batches (lengths): kernels against the reference, and the layers against
torch's pack_padded_sequence path, which is what they promise to compute without packing."""
import numpy as np
import pytest
import torch
from helpers import MODES, assert_close64, assert_within_rule, jittered, make_problem, use_weight_form

import fastrnn
from fastrnn import functional

OPTIONS = {
    "plain":         (6, 4, 3, 5, {}),
    "2layers-bidir": (5, 3, 4, 6, dict(num_layers=2, bidirectional=True)),   # reverse starts per sequence
    "batch_first":   (5, 3, 4, 6, dict(batch_first=True, bidirectional=True)),
    "T=1":           (1, 3, 2, 4, {}),
}


def _run(p, lengths, backend, dtype):
    cast = lambda a: np.asarray(a, dtype=dtype)   # noqa: E731
    kw = dict(num_layers=p["num_layers"], bidirectional=p["bidirectional"], batch_first=p["batch_first"],
              backend=backend, dtype=dtype, lengths=lengths)
    weights = {k: cast(v) for k, v in p["weights"].items()}
    y, hx_n, ctx = functional.forward(p["mode"], cast(p["x"]), tuple(map(cast, p["hx"])), weights, **kw)
    gx, ghx0, grads = functional.backward(ctx, cast(p["grad_y"]), tuple(map(cast, p["grad_hx"])))
    out = {"y": y, "grad_x": gx, **{f"state_n[{i}]": s for i, s in enumerate(hx_n)},
           **{f"grad_state0[{i}]": g for i, g in enumerate(ghx0)}, **{"grad_" + k: v for k, v in grads.items()}}
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _lengths(rng, T, B):
    lens = rng.integers(1, T + 1, B)
    lens[rng.integers(B)] = T            # one full-length sequence, the others shorter or equal
    return lens


# CUDA on the simulator here; the CPU sweeps with W_hh packed and read in place (weight_form)
KERNELS = ["cpu-packed", "cpu-in_place", "cuda-step", "cuda-persistent"]


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("mode", MODES)
def test_kernels_match_reference(rng, monkeypatch, mode, option, kernels):
    backend, _, strategy = kernels.partition("-")
    if backend == "cuda":
        monkeypatch.setenv("FASTRNN_CUDA_STRATEGY", strategy)
    else:
        use_weight_form(monkeypatch, strategy)
    T, B, I, H, opts = OPTIONS[option]
    p = make_problem(rng, mode, T, B, I, H, **opts)
    lens = _lengths(rng, T, B)
    ref64 = _run(p, lens, "reference", np.float64)
    assert_close64(_run(p, lens, backend, np.float64), ref64)
    assert_within_rule(_run(p, lens, backend, np.float32), ref64, _run(p, lens, "reference", np.float32),
                       _run(jittered(p), lens, "reference", np.float64))


@pytest.mark.parametrize("mode", MODES)
def test_full_lengths_equal_no_lengths(rng, mode):
    p = make_problem(rng, mode, 5, 3, 4, 6, bidirectional=True)
    a, b = _run(p, None, "cpu", np.float64), _run(p, np.full(3, 5), "cpu", np.float64)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


TORCH = [("LSTM", fastrnn.LSTM, torch.nn.LSTM, {}), ("GRU", fastrnn.GRU, torch.nn.GRU, {}),
         ("RNN_TANH", fastrnn.RNN, torch.nn.RNN, {}), ("RNN_RELU", fastrnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"})]


@pytest.mark.parametrize("backend", ["cpu", "reference"])
@pytest.mark.parametrize("option", ["plain", "2layers-bidir", "batch_first"])
@pytest.mark.parametrize("mode,cls,tcls,kw", TORCH, ids=[m for m, *_ in TORCH])
def test_matches_torch_packed_sequences(rng, mode, cls, tcls, kw, option, backend):
    T, B, I, H, opts = OPTIONS[option]
    torch.manual_seed(int(rng.integers(2**31)))
    tm = tcls(I, H, **kw, **opts).double()
    fm = cls(I, H, **kw, **opts, backend=backend, dtype="float64")
    fm.load_state_dict(tm.state_dict())
    lens = _lengths(rng, T, B)
    bf = opts.get("batch_first", False)
    D = 2 if opts.get("bidirectional") else 1
    L = opts.get("num_layers", 1)
    x = rng.standard_normal((B, T, I) if bf else (T, B, I))
    hx = [rng.standard_normal((L * D, B, H)) for _ in range(2 if mode == "LSTM" else 1)]
    gy = rng.standard_normal((B, T, D * H) if bf else (T, B, D * H))
    ghx = [rng.standard_normal((L * D, B, H)) for _ in hx]

    xt = torch.tensor(x, requires_grad=True)
    hxt = [torch.tensor(h, requires_grad=True) for h in hx]
    packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lens), batch_first=bf, enforce_sorted=False)
    out, st = tm(packed, tuple(hxt) if mode == "LSTM" else hxt[0])
    yt, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=bf, total_length=T)
    st = list(st) if mode == "LSTM" else [st]
    torch.autograd.backward([yt] + st, [torch.tensor(gy)] + [torch.tensor(g) for g in ghx])

    y, s = fm(x, tuple(hx) if mode == "LSTM" else hx[0], lengths=lens)
    s = list(s) if mode == "LSTM" else [s]
    gx, gs = fm.backward(gy, tuple(ghx) if mode == "LSTM" else ghx[0])
    gs = list(gs) if mode == "LSTM" else [gs]
    tol = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y, yt.detach().numpy(), **tol)
    for a, b in zip(s, st):
        np.testing.assert_allclose(a, b.detach().numpy(), **tol)
    np.testing.assert_allclose(gx, xt.grad.numpy(), **tol)
    for a, b in zip(gs, hxt):
        np.testing.assert_allclose(a, b.grad.numpy(), **tol)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(fm.grads[name], p.grad.numpy(), err_msg=name, **tol)


def test_lengths_are_checked(rng):
    m = fastrnn.GRU(3, 4)
    x = np.zeros((5, 2, 3), np.float32)
    with pytest.raises(ValueError, match="lengths must be 2 integers"):
        m(x, lengths=[5])
    with pytest.raises(ValueError, match="1..T=5"):
        m(x, lengths=[6, 1])
    with pytest.raises(ValueError, match="1..T=5"):
        m(x, lengths=[0, 5])
    with pytest.raises(ValueError, match="integers"):
        m(x, lengths=[2.5, 5.0])
