"""The public API's contract: torch's names, shapes and initialisation; inputs left untouched;
clear errors for the common mistakes (fastrnn/_checks.py)."""
import numpy as np
import pytest
import torch

import fastrnn


@pytest.mark.parametrize("cls,tcls,kw", [
    (fastrnn.LSTM, torch.nn.LSTM, dict(num_layers=2, bidirectional=True)),
    (fastrnn.GRU, torch.nn.GRU, dict(num_layers=3)),
    (fastrnn.RNN, torch.nn.RNN, dict(bidirectional=True, bias=False, nonlinearity="relu")),
    (fastrnn.LSTMCell, torch.nn.LSTMCell, {}),
    (fastrnn.GRUCell, torch.nn.GRUCell, dict(bias=False)),
    (fastrnn.RNNCell, torch.nn.RNNCell, {}),
])
def test_state_dict_has_torch_keys_shapes_and_order(cls, tcls, kw):
    ours = cls(5, 7, **kw).state_dict()
    theirs = tcls(5, 7, **kw).state_dict()
    assert list(ours) == list(theirs)
    for k in theirs:
        assert ours[k].shape == tuple(theirs[k].shape), k


def test_initialisation_is_torchs_range_and_seedable():
    a, b, c = (fastrnn.GRU(3, 16, seed=s).state_dict() for s in (1, 1, 2))
    for k in a:
        assert np.abs(a[k]).max() <= 1 / np.sqrt(16)
        np.testing.assert_array_equal(a[k], b[k])
        assert not np.array_equal(a[k], c[k])
    # uniform, not concentrated: the spread fills most of the range
    assert np.abs(a["weight_ih_l0"]).max() > 0.9 / np.sqrt(16)


def test_dtype_of_parameters_and_outputs():
    for dtype in ("float32", "float64"):
        m = fastrnn.LSTM(3, 4, dtype=dtype)
        assert all(v.dtype == np.dtype(dtype) for v in m.state_dict().values())
        y, (h, c) = m(np.zeros((2, 1, 3)))        # float64 input is cast to the layer's dtype
        assert y.dtype == h.dtype == c.dtype == np.dtype(dtype)


def test_inputs_are_not_modified(rng):
    m = fastrnn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, dtype="float64")
    x = rng.standard_normal((2, 5, 3))
    h0, c0 = rng.standard_normal((4, 2, 4)), rng.standard_normal((4, 2, 4))
    gy = rng.standard_normal((2, 5, 8))
    gh, gc = rng.standard_normal((4, 2, 4)), rng.standard_normal((4, 2, 4))
    copies = [a.copy() for a in (x, h0, c0, gy, gh, gc)]
    params = m.state_dict()
    m(x, (h0, c0))
    m.backward(gy, (gh, gc))
    for a, b in zip((x, h0, c0, gy, gh, gc), copies):
        np.testing.assert_array_equal(a, b)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, params[k])


def test_backward_can_be_repeated_and_grad_h_n_is_optional(rng):
    m = fastrnn.GRU(3, 4, dtype="float64")
    x = rng.standard_normal((5, 2, 3))
    gy = rng.standard_normal((5, 2, 4))
    m(x)
    g1 = m.backward(gy)[0]
    g2 = m.backward(gy, None)[0]
    np.testing.assert_array_equal(g1, g2)
    # grad_y=None: only the final state's gradient flows
    gx, gh0 = m.backward(None, rng.standard_normal((1, 2, 4)))
    assert gx.shape == x.shape and np.abs(gx).max() > 0


def test_load_state_dict_rejects_bad_dicts():
    m = fastrnn.LSTM(3, 4)
    good = m.state_dict()
    missing = dict(good)
    del missing["bias_hh_l0"]
    with pytest.raises(ValueError, match="bias_hh_l0"):
        m.load_state_dict(missing)
    with pytest.raises(ValueError, match="weight_ih_l1"):
        m.load_state_dict({**good, "weight_ih_l1": good["weight_ih_l0"]})
    with pytest.raises(ValueError, match=r"weight_hh_l0 must have shape \(16, 4\); got \(16, 3\)"):
        m.load_state_dict({**good, "weight_hh_l0": np.zeros((16, 3))})
    # the failed loads changed nothing, and lists load like arrays
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, good[k])
    m.load_state_dict({k: v.tolist() for k, v in good.items()})


def test_common_mistakes_raise_clear_errors():
    m = fastrnn.GRU(3, 4)
    with pytest.raises(ValueError, match=r"input_size=3.*got shape \(5, 2, 4\)"):
        m(np.zeros((5, 2, 4)))
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\); got \(1, 3, 4\)"):
        m(np.zeros((5, 2, 3)), np.zeros((1, 3, 4)))
    with pytest.raises(ValueError, match="x must be 3-D"):
        m(np.zeros(3))
    with pytest.raises(TypeError, match="real floating-point"):
        m(np.zeros((5, 2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="forward"):
        fastrnn.GRU(3, 4).backward(np.zeros((5, 2, 4)))
    m(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match=r"grad_y must have shape \(5, 2, 4\)"):
        m.backward(np.zeros((5, 2, 3)))
    with pytest.raises(ValueError, match="backend"):
        fastrnn.LSTM(3, 4, backend="gpu")
    with pytest.raises(ValueError, match="nonlinearity"):
        fastrnn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="dtype"):
        fastrnn.LSTM(3, 4, dtype="float16")
    with pytest.raises(ValueError, match="hidden_size"):
        fastrnn.LSTM(3, 0)


def test_inference_mode_keeps_no_context():
    m = fastrnn.LSTM(3, 4)
    m(np.zeros((5, 2, 3)), need_grad=False)
    with pytest.raises(ValueError, match="forward"):
        m.backward(np.zeros((5, 2, 4)))


def test_state_argument_is_named_hx_as_in_torch(rng):
    # torch users write gru(x, hx=h0) and cell(x, hx=h): both must work unchanged.
    x, h0 = rng.standard_normal((3, 2, 4)), rng.standard_normal((1, 2, 5))
    gru = fastrnn.GRU(4, 5, dtype="float64")
    np.testing.assert_array_equal(gru(x, hx=h0)[0], gru(x, h0)[0])
    cell = fastrnn.GRUCell(4, 5, dtype="float64")
    np.testing.assert_array_equal(cell(x[0], hx=h0[0]), cell(x[0], h0[0]))
    lstm = fastrnn.LSTM(4, 5, dtype="float64")
    lstm(x, hx=(h0, h0))
