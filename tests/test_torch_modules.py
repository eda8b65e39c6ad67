"""fastrnn.torch: the modules against torch.nn's own, gradcheck, no_grad, frozen inputs,
training loops, and the import boundary. CPU tensors here; CUDA tensors where a GPU is."""
import subprocess
import sys

import numpy as np
import pytest
import torch  # the test extra installs it: a missing oracle must fail, not skip

import fastrnn.torch as ft
from fastrnn import functional

LAYERS = [
    ("LSTM", ft.LSTM, torch.nn.LSTM, {}),
    ("GRU", ft.GRU, torch.nn.GRU, {}),
    ("RNN_TANH", ft.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    ("RNN_RELU", ft.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
]
CELLS = [
    ("LSTM", ft.LSTMCell, torch.nn.LSTMCell, {}),
    ("GRU", ft.GRUCell, torch.nn.GRUCell, {}),
    ("RNN_TANH", ft.RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}),
    ("RNN_RELU", ft.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
]
OPTIONS = {
    "plain":         (5, 3, 4, 7, {}),
    "2layers-bidir": (3, 2, 4, 5, dict(num_layers=2, bidirectional=True)),
    "batch_first":   (4, 3, 5, 6, dict(batch_first=True, num_layers=2)),
    "no-bias":       (4, 3, 5, 6, dict(bias=False)),
    "unbatched":     (4, None, 5, 6, dict(bidirectional=True)),
}
# float32 against torch's float32 (oneDNN): both round differently from the exact result.
TOL = {torch.float64: dict(rtol=1e-10, atol=1e-12), torch.float32: dict(rtol=2e-5, atol=2e-6)}
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
if torch.cuda.is_available():
    from fastrnn.bench.runners import strict_float32_cudnn
    strict_float32_cudnn()      # cuDNN's TF32 default would be compared against float32 kernels


def _pair(tcls, fcls, kw, dtype, device, seed):
    torch.manual_seed(seed)
    tm = tcls(**kw).to(dtype=dtype, device=device)
    fm = fcls(**kw, dtype=dtype, device=device)
    fm.load_state_dict(tm.state_dict())       # the whole migration
    return tm, fm


def _grads(module, out, inputs, grad_outs):
    return torch.autograd.grad(out, list(inputs) + list(module.parameters()), grad_outs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("mode,fcls,tcls,kw", LAYERS, ids=[m for m, *_ in LAYERS])
def test_layer_matches_torch(rng, mode, fcls, tcls, kw, option, dtype, device):
    T, B, I, H, opts = OPTIONS[option]
    tm, fm = _pair(tcls, fcls, dict(input_size=I, hidden_size=H, **kw, **opts), dtype, device,
                   int(rng.integers(2**31)))
    lead = (T,) if B is None else ((B, T) if opts.get("batch_first") else (T, B))
    D = 2 if opts.get("bidirectional") else 1
    state_shape = (opts.get("num_layers", 1) * D,) + (() if B is None else (B,)) + (H,)
    new = lambda *s: torch.tensor(rng.standard_normal(s), dtype=dtype, device=device)  # noqa: E731
    x = new(*lead, I).requires_grad_()
    hx = tuple(new(*state_shape).requires_grad_() for _ in range(2 if mode == "LSTM" else 1))
    hx_arg = hx if mode == "LSTM" else hx[0]
    grad_outs = [new(*lead, D * H)] + [new(*state_shape) for _ in hx]
    results = []
    for m in (tm, fm):
        y, st = m(x, hx_arg)
        st = list(st) if mode == "LSTM" else [st]
        results.append([y, *st] + list(_grads(m, [y, *st], (x, *hx), grad_outs)))
    assert all(isinstance(r, torch.Tensor) and r.device.type == device for r in results[1])
    for want, got in zip(*results):
        torch.testing.assert_close(got, want, **TOL[dtype])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("mode,fcls,tcls,kw", CELLS, ids=[m for m, *_ in CELLS])
def test_cell_matches_torch(rng, mode, fcls, tcls, kw, batched, device):
    tm, fm = _pair(tcls, fcls, dict(input_size=5, hidden_size=7, **kw), torch.float64, device,
                   int(rng.integers(2**31)))
    lead = (3,) if batched else ()
    new = lambda *s: torch.tensor(rng.standard_normal(s), device=device)  # noqa: E731
    x = new(*lead, 5).requires_grad_()
    hx = tuple(new(*lead, 7).requires_grad_() for _ in range(2 if mode == "LSTM" else 1))
    grad_outs = [new(*lead, 7) for _ in hx]
    results = []
    for m in (tm, fm):
        out = m(x, hx if mode == "LSTM" else hx[0])
        out = list(out) if mode == "LSTM" else [out]
        results.append(out + list(_grads(m, out, (x, *hx), grad_outs)))
    for want, got in zip(*results):
        torch.testing.assert_close(got, want, **TOL[torch.float64])


@pytest.mark.parametrize("mode,fcls,tcls,kw", LAYERS + CELLS, ids=[f"{m}-{c.__name__}" for m, c, *_ in LAYERS + CELLS])
def test_gradcheck(rng, mode, fcls, tcls, kw):
    torch.manual_seed(int(rng.integers(2**31)))
    is_cell = fcls.__name__.endswith("Cell")
    m = fcls(3, 4, **kw, **({} if is_cell else dict(num_layers=2, bidirectional=True)), dtype=torch.float64)
    x = torch.randn((2, 3) if is_cell else (3, 2, 3), dtype=torch.float64, requires_grad=True)
    h_shape = (2, 4) if is_cell else (4, 2, 4)
    hx = tuple(torch.randn(h_shape, dtype=torch.float64, requires_grad=True)
               for _ in range(2 if mode == "LSTM" else 1))
    names = [n for n, _ in m.named_parameters()]

    def f(x, *rest):
        # functional_call swaps the parameters for gradcheck's (perturbed) tensors, no in-place ops
        state, weights = rest[:len(hx)], rest[len(hx):]
        out = torch.func.functional_call(m, dict(zip(names, weights)), (x, state if mode == "LSTM" else state[0]))
        if is_cell:
            return out
        return (out[0],) + (tuple(out[1]) if mode == "LSTM" else (out[1],))

    weights = [p.detach().clone().requires_grad_() for p in m.parameters()]
    assert torch.autograd.gradcheck(f, (x, *hx, *weights), eps=1e-6, atol=1e-7)


def test_no_grad_keeps_nothing(monkeypatch, rng):
    seen = []
    real = functional.forward
    monkeypatch.setattr(functional, "forward", lambda *a, **k: seen.append(k["need_grad"]) or real(*a, **k))
    m = ft.LSTM(3, 4, dtype=torch.float64)
    x = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        y, (h, c) = m(x)
    assert y.grad_fn is None and seen == [False]
    y2, _ = m(x)
    assert y2.grad_fn is not None and seen == [False, True]
    torch.testing.assert_close(y, y2.detach(), rtol=0, atol=0)


def test_cell_without_grad_sees_every_parameter_change(rng):
    # The no-grad path keeps numpy views of the parameters (fastrnn/torch/cells.py): an in-place
    # update, a replaced Parameter, new .data and load_state_dict must all reach the next call.
    torch.manual_seed(int(rng.integers(2**31)))
    tm = torch.nn.GRUCell(3, 4, dtype=torch.float64)
    fm = ft.GRUCell(3, 4, dtype=torch.float64)
    fm.load_state_dict(tm.state_dict())
    x = torch.randn(2, 3, dtype=torch.float64)

    def same():
        with torch.no_grad():
            torch.testing.assert_close(fm(x), tm(x), rtol=1e-12, atol=1e-14)
    same()
    for change in (lambda m: m.weight_hh.mul_(1.5),
                   lambda m: setattr(m, "bias_ih", torch.nn.Parameter(m.bias_ih.detach() + 0.25)),
                   lambda m: setattr(m.weight_ih, "data", m.weight_ih.detach() * -1.0)):
        with torch.no_grad():
            change(tm)
            change(fm)
        same()
    fm.load_state_dict({k: v * 0.5 for k, v in tm.state_dict().items()})
    tm.load_state_dict({k: v * 0.5 for k, v in tm.state_dict().items()})
    same()


def test_inputs_without_grad_and_frozen_parameters(rng):
    m = ft.GRU(3, 4, num_layers=2, dtype=torch.float64)
    m.weight_ih_l0.requires_grad_(False)
    x = torch.randn(5, 2, 3, dtype=torch.float64)            # requires_grad=False
    y, h = m(x)
    (y.square().sum() + h.sum()).backward()
    assert x.grad is None and m.weight_ih_l0.grad is None
    assert all(p.grad is not None for n, p in m.named_parameters() if n != "weight_ih_l0")


def test_in_place_change_before_backward_is_caught():
    # fastrnn's saved context holds the output buffer: changing it in place must not pass silently.
    m = ft.RNN(3, 4)
    y, _ = m(torch.randn(5, 2, 3, requires_grad=True))
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("opt", ["sgd", "adam"])
@pytest.mark.parametrize("mode,fcls,tcls,kw", LAYERS[:2], ids=["LSTM", "GRU"])
def test_training_loop_follows_torch(rng, mode, fcls, tcls, kw, opt):
    # The same model, data and optimiser with either recurrent layer: the same loss curve, to
    # float32 rounding (the two sides round differently at every step; it compounds slowly).
    def model(rnn_cls):
        torch.manual_seed(0)
        rnn = rnn_cls(6, 16, num_layers=2, batch_first=True, **kw)
        return rnn, torch.nn.Linear(16, 3)

    (t_rnn, t_head), (f_rnn, f_head) = model(tcls), model(fcls)
    f_rnn.load_state_dict(t_rnn.state_dict())
    f_head.load_state_dict(t_head.state_dict())
    x = torch.tensor(rng.standard_normal((8, 12, 6)), dtype=torch.float32)
    target = torch.tensor(rng.integers(0, 3, 8))
    curves = []
    for rnn, head in ((t_rnn, t_head), (f_rnn, f_head)):
        params = list(rnn.parameters()) + list(head.parameters())
        o = torch.optim.SGD(params, lr=0.2, momentum=0.9) if opt == "sgd" else torch.optim.Adam(params, lr=1e-2)
        losses = []
        for _ in range(30):
            o.zero_grad()
            y, _ = rnn(x)
            loss = torch.nn.functional.cross_entropy(head(y[:, -1]), target)
            loss.backward()
            o.step()
            losses.append(loss.item())
        curves.append(np.array(losses))
    assert curves[0][-1] < 0.95 * curves[0][0], "the reference model did not learn: a useless test"
    # Over 10 data seeds the curves differed by at most 8e-6 (relative); a wrong gradient moves
    # them by far more. (Plain SGD at a large rate made loss spikes that amplify rounding: 1e-2.)
    np.testing.assert_allclose(curves[1], curves[0], rtol=1e-4)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode,fcls,tcls,kw", LAYERS, ids=[m for m, *_ in LAYERS])
def test_packed_sequences_match_torch(rng, mode, fcls, tcls, kw, batch_first):
    rnn = torch.nn.utils.rnn
    opts = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True, batch_first=batch_first, **kw)
    tm, fm = _pair(tcls, fcls, opts, torch.float64, "cpu", int(rng.integers(2**31)))
    x = torch.tensor(rng.standard_normal((4, 6, 3) if batch_first else (6, 4, 3)), requires_grad=True)
    lengths = torch.tensor([3, 6, 1, 4])
    hx = tuple(torch.tensor(rng.standard_normal((4, 4, 4)), requires_grad=True)
               for _ in range(2 if mode == "LSTM" else 1))
    results = []
    for m in (tm, fm):
        out, st = m(rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False),
                    hx if mode == "LSTM" else hx[0])
        st = list(st) if mode == "LSTM" else [st]
        loss = (out.data * torch.arange(out.data.numel()).reshape(out.data.shape)).sum() + sum(s.sum() for s in st)
        results.append([out.data, out.batch_sizes, out.sorted_indices, *st]
                       + list(torch.autograd.grad(loss, [x, *hx] + list(m.parameters()))))
    for want, got in zip(*results):
        torch.testing.assert_close(got, want, **TOL[torch.float64])


def test_dropout_follows_torch_seed_and_mode(rng):
    m = ft.GRU(3, 8, num_layers=3, dropout=0.5, dtype=torch.float64)
    x = torch.tensor(rng.standard_normal((5, 2, 3)), requires_grad=True)
    torch.manual_seed(1)
    a, _ = m(x)
    torch.manual_seed(1)
    b, _ = m(x)
    c, _ = m(x)
    torch.testing.assert_close(a, b, rtol=0, atol=0)         # same torch seed, same masks
    assert not torch.equal(a, c)
    tm = torch.nn.GRU(3, 8, num_layers=3, dropout=0.5).double()
    tm.load_state_dict(m.state_dict())
    torch.testing.assert_close(m.eval()(x)[0], tm.eval()(x)[0], **TOL[torch.float64])   # eval: no dropout
    a.sum().backward()                                        # training-mode backward runs
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_unsupported_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="dropout"):
        ft.LSTM(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size"):
        ft.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        ft.RNN(3, 4, nonlinearity="gelu")
    m = ft.GRU(3, 4)
    with pytest.raises(TypeError, match="torch.float64 but the layer's parameters are torch.float32"):
        m(torch.randn(5, 2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="tuple"):
        ft.LSTM(3, 4)(torch.randn(5, 2, 3), torch.zeros(1, 2, 4))


def test_import_fastrnn_does_not_import_torch():
    code = ("import sys, numpy, fastrnn; fastrnn.LSTM(2, 3)(numpy.zeros((1, 1, 2))); "
            "print('torch' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stderr
