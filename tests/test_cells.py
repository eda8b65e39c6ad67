"""Cells, one step, against the reference: every cell, with and without bias, batched (B=1 and an
odd B) and unbatched, forward and backward, float64 tightly and float32 under the tolerance rule
(helpers.py), on the CPU (its one-step path, kernels/cpu/once.py, on teams of 1 to 3) and on
CUDA (the simulator here). The classes and the functional calls both."""
import numpy as np
import pytest
from helpers import EPS32, MODES, assert_close64, assert_within_rule

import fastrnn

SHAPES = {
    # name: (B, I, H, bias) -- each with its reason
    "B=1":        (1, 5, 7, True),      # a GEMV: the decode-loop case
    "B=3 H=9":    (3, 4, 9, True),      # a 3-row block of the batch; units not a multiple of 4
    "no-bias":    (2, 3, 6, False),
    "unbatched":  (None, 4, 5, True),
}


def _cell(mode, I, H, bias, backend, dtype):
    if mode.startswith("RNN_"):
        return fastrnn.RNNCell(I, H, bias, nonlinearity=mode[4:].lower(), backend=backend, dtype=dtype)
    return {"LSTM": fastrnn.LSTMCell, "GRU": fastrnn.GRUCell}[mode](I, H, bias, backend=backend, dtype=dtype)


def make_step(rng, mode, B, I, H, bias):
    """Random x, state, parameters (torch's init range) and upstream gradients of one step."""
    lead = () if B is None else (B,)
    n_state = 2 if mode == "LSTM" else 1
    k = 1 / np.sqrt(H)
    params = {name: rng.uniform(-k, k, v.shape)
              for name, v in _cell(mode, I, H, bias, "reference", "float64").state_dict().items()}
    return dict(mode=mode, I=I, H=H, bias=bias, params=params, x=rng.standard_normal(lead + (I,)),
                state=[rng.standard_normal(lead + (H,)) for _ in range(n_state)],
                grads=[rng.standard_normal(lead + (H,)) for _ in range(n_state)])


def run_step(p, backend, dtype):
    """One forward and backward through a cell -> {name: float64 array} of every result."""
    cast = lambda a: np.asarray(a, dtype=dtype)   # noqa: E731
    cell = _cell(p["mode"], p["I"], p["H"], p["bias"], backend, dtype)
    cell.load_state_dict({k: cast(v) for k, v in p["params"].items()})
    state = [cast(s) for s in p["state"]]
    new = cell(cast(p["x"]), tuple(state) if p["mode"] == "LSTM" else state[0])
    new = new if p["mode"] == "LSTM" else (new,)
    gx, gs = cell.backward(*map(cast, p["grads"]))
    gs = gs if p["mode"] == "LSTM" else (gs,)
    out = {"grad_x": gx}
    for i, (s, g) in enumerate(zip(new, gs)):
        out[f"state[{i}]"] = s
        out[f"grad_state0[{i}]"] = g
    assert list(cell.grads) == list(p["params"])
    for k, v in cell.grads.items():
        assert v.shape == p["params"][k].shape, k
        out["grad_" + k] = v
    for name, a in out.items():
        assert a.dtype == np.dtype(dtype), f"{name} came back as {a.dtype}, not {np.dtype(dtype)}"
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def jittered(p):
    rng = np.random.default_rng(0)
    move = lambda a: a * (1 + EPS32 * rng.uniform(-1, 1, np.shape(a)))   # noqa: E731
    return dict(p, x=move(p["x"]), state=[move(s) for s in p["state"]], grads=[move(g) for g in p["grads"]],
                params={k: move(v) for k, v in p["params"].items()})


def check(p, backend):
    ref64 = run_step(p, "reference", np.float64)
    assert_close64(run_step(p, backend, np.float64), ref64)
    assert_within_rule(run_step(p, backend, np.float32), ref64, run_step(p, "reference", np.float32),
                       run_step(jittered(p), "reference", np.float64))


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("mode", MODES)
def test_cpu_cell_matches_reference(rng, members, mode, shape):
    check(make_step(rng, mode, *SHAPES[shape]), "cpu")


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("mode", MODES)
def test_cuda_cell_matches_reference(rng, mode, shape):
    check(make_step(rng, mode, *SHAPES[shape]), "cuda")


def run_functional(p, backend, dtype):
    """One step through fastrnn.lstm_cell / gru_cell / rnn_cell -> {name: float64 array}."""
    mode = p["mode"]
    fn, kw = {"LSTM": (fastrnn.lstm_cell, {}), "GRU": (fastrnn.gru_cell, {})}.get(
        mode, (fastrnn.rnn_cell, dict(nonlinearity=mode[4:].lower())))
    w = [np.asarray(p["params"][k], dtype=dtype) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    state = [np.asarray(s, dtype=dtype) for s in p["state"]]
    new = fn(np.asarray(p["x"], dtype=dtype), tuple(state) if mode == "LSTM" else state[0], *w,
             backend=backend, **kw)
    new = new if mode == "LSTM" else (new,)
    assert all(s.dtype == np.dtype(dtype) for s in new)
    return {f"state[{i}]": np.asarray(s, dtype=np.float64) for i, s in enumerate(new)}


@pytest.mark.parametrize("backend", ["cpu", "cuda"])
@pytest.mark.parametrize("mode", MODES)
def test_functional_cell_matches_reference(rng, backend, mode):
    p = make_step(rng, mode, 3, 4, 6, True)
    ref64 = run_functional(p, "reference", np.float64)
    assert_close64(run_functional(p, backend, np.float64), ref64)
    assert_within_rule(run_functional(p, backend, np.float32), ref64, run_functional(p, "reference", np.float32),
                       run_functional(jittered(p), "reference", np.float64))
