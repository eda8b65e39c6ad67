"""Bad input gets a clear error before any kernel runs; foreign layouts work; inputs are never
modified. Each probe names the exception, and the words its message must contain: the
argument, and what was expected or received."""
import numpy as np
import pytest

import fastrnn
from fastrnn import functional

X = np.zeros((5, 2, 3), np.float32)          # (T, B, I) for layers of input_size 3


def _lstm():
    return fastrnn.LSTM(3, 4, num_layers=2, seed=0)


def _gru():
    return fastrnn.GRU(3, 4, seed=0)


def _gru_after_forward():
    g = _gru()
    g(X)
    return g


PROBES = {
    # name: (callable, exception, fragments of the message)
    "x rank 1":              (lambda: _lstm()(np.zeros(3)), ValueError, ["x must be 3-D", "(3,)"]),
    "x rank 4":              (lambda: _lstm()(np.zeros((5, 2, 3, 1))), ValueError, ["x must be 3-D", "(5, 2, 3, 1)"]),
    "x feature size":        (lambda: _lstm()(np.zeros((5, 2, 7))), ValueError, ["input_size=3", "(5, 2, 7)"]),
    "batch_first confusion": (lambda: fastrnn.LSTM(3, 4, batch_first=True)(np.zeros((5, 3, 2))),
                              ValueError, ["input_size=3", "(5, 3, 2)"]),
    "T=0":                   (lambda: _lstm()(np.zeros((0, 2, 3))), ValueError, ["at least one step", "(0, 2, 3)"]),
    "B=0":                   (lambda: _lstm()(np.zeros((5, 0, 3))), ValueError, ["one sequence", "(5, 0, 3)"]),
    "h0 shape":              (lambda: _lstm()(X, (np.zeros((2, 3, 4)), np.zeros((2, 2, 4)))),
                              ValueError, ["h0", "(2, 2, 4)", "(2, 3, 4)"]),
    "c0 shape":              (lambda: _lstm()(X, (np.zeros((2, 2, 4)), np.zeros((2, 2, 5)))),
                              ValueError, ["c0", "(2, 2, 4)", "(2, 2, 5)"]),
    "batch mismatch":        (lambda: _gru()(X, np.zeros((1, 3, 4))), ValueError, ["h0", "(1, 2, 4)", "(1, 3, 4)"]),
    "LSTM hx not a pair":    (lambda: _lstm()(X, np.zeros((2, 2, 4))), ValueError, ["(h0, c0)", "(2, 2, 4)"]),
    "GRU hx a pair":         (lambda: _gru()(X, (np.zeros((1, 2, 4)), np.zeros((1, 2, 4)))),
                              ValueError, ["one array", "tuple of 2"]),
    "int x":                 (lambda: _lstm()(np.zeros((5, 2, 3), np.int64)), TypeError, ["x", "int64"]),
    "complex x":             (lambda: _lstm()(np.zeros((5, 2, 3), np.complex64)), TypeError, ["x", "complex64"]),
    "object x":              (lambda: _lstm()(np.full((5, 2, 3), None)), TypeError, ["x", "object"]),
    "string x":              (lambda: _lstm()("hello"), TypeError, ["x", "<U5"]),
    "None x":                (lambda: _lstm()(None), TypeError, ["x", "None"]),
    "ragged x":              (lambda: _lstm()([[[1, 2, 3]], [[1, 2]]]), ValueError, ["x must be an array"]),
    "string h0":             (lambda: _gru()(X, "abc"), TypeError, ["h0", "<U3"]),
    "float16 layer":         (lambda: fastrnn.LSTM(3, 4, dtype="float16"), TypeError, ["dtype", "float16"]),
    "hidden_size inf":       (lambda: fastrnn.LSTM(3, float("inf")), ValueError, ["hidden_size", "inf"]),
    "hidden_size nan":       (lambda: fastrnn.LSTM(3, float("nan")), ValueError, ["hidden_size", "nan"]),
    "hidden_size 2.0":       (lambda: fastrnn.LSTM(3, 2.0), ValueError, ["hidden_size", "2.0"]),
    "hidden_size -1":        (lambda: fastrnn.GRU(3, -1), ValueError, ["hidden_size", "-1"]),
    "input_size 0":          (lambda: fastrnn.GRU(0, 4), ValueError, ["input_size", "0"]),
    "num_layers 0":          (lambda: fastrnn.LSTM(3, 4, num_layers=0), ValueError, ["num_layers", "0"]),
    "num_layers True":       (lambda: fastrnn.LSTM(3, 4, num_layers=True), ValueError, ["num_layers", "True"]),
    "unknown backend":       (lambda: fastrnn.LSTM(3, 4, backend="tpu"), ValueError, ["backend", "'tpu'"]),
    "unknown nonlinearity":  (lambda: fastrnn.RNN(3, 4, nonlinearity="gelu"), ValueError, ["nonlinearity", "'gelu'"]),
    "backward first":        (lambda: _gru().backward(np.zeros((5, 2, 4))), ValueError, ["forward call first"]),
    "grad_y shape":          (lambda: _gru_after_forward().backward(np.zeros((5, 2, 5))),
                              ValueError, ["grad_y", "(5, 2, 4)", "(5, 2, 5)"]),
    "grad_h_n shape":        (lambda: _gru_after_forward().backward(np.zeros((5, 2, 4)), np.zeros((2, 2, 4))),
                              ValueError, ["grad_h_n", "(1, 2, 4)", "(2, 2, 4)"]),
    "state_dict missing":    (lambda: _gru().load_state_dict({k: v for k, v in _gru().state_dict().items()
                                                              if k != "bias_hh_l0"}),
                              ValueError, ["missing", "bias_hh_l0"]),
    "state_dict extra":      (lambda: _gru().load_state_dict({**_gru().state_dict(), "foo": np.zeros(3)}),
                              ValueError, ["unexpected", "foo"]),
    "state_dict shape":      (lambda: _gru().load_state_dict({**_gru().state_dict(), "bias_hh_l0": np.zeros(5)}),
                              ValueError, ["bias_hh_l0", "(12,)", "(5,)"]),
    "functional mode":       (lambda: functional.forward("LSTMX", X, None, _gru().state_dict()),
                              ValueError, ["mode", "'LSTMX'"]),
    "functional weight rank": (lambda: functional.forward("GRU", X, None, {**_gru().state_dict(),
                                                                          "weight_hh_l0": np.zeros(12)}),
                               ValueError, ["weight_hh_l0", "2-D", "(12,)"]),
    "functional no weights": (lambda: functional.forward("GRU", X, None, {}), ValueError, ["weight_hh_l0"]),
    "functional bad ctx":    (lambda: functional.backward(None, X), ValueError, ["context"]),
    "cell x rank":           (lambda: fastrnn.LSTMCell(3, 4)(np.zeros((2, 2, 3))), ValueError, ["x must be 2-D"]),
    "cell x feature":        (lambda: fastrnn.LSTMCell(3, 4)(np.zeros((2, 5))), ValueError, ["input_size=3", "(2, 5)"]),
    "cell h shape":          (lambda: fastrnn.GRUCell(3, 4)(np.zeros((2, 3)), np.zeros((3, 4))),
                              ValueError, ["h must have shape (2, 4)", "(3, 4)"]),
    "cell backward first":   (lambda: fastrnn.GRUCell(3, 4).backward(np.zeros((2, 4))), ValueError,
                              ["forward call first"]),
}


@pytest.mark.parametrize("probe", list(PROBES))
def test_bad_input_is_a_clear_error(probe):
    call, exc, fragments = PROBES[probe]
    with pytest.raises(exc) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), f"{probe}: {fragment!r} not in {str(info.value)!r}"


def test_layer_stays_usable_after_errors(rng):
    m = fastrnn.LSTM(3, 4, num_layers=2, seed=0)
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    y0, _ = m(x)
    g0, _ = m.backward(np.ones_like(y0))
    for bad in (lambda: m(np.zeros((5, 2, 7))), lambda: m(x, (np.zeros((1, 2, 4)),) * 2),
                lambda: m.backward(np.zeros((5, 2, 5))), lambda: m.load_state_dict({})):
        with pytest.raises((ValueError, TypeError)):
            bad()
        y, _ = m(x)
        g, _ = m.backward(np.ones_like(y))
        np.testing.assert_array_equal(y, y0)
        np.testing.assert_array_equal(g, g0)


FOREIGN = {
    # name: how the caller's (T, B, I) float64 array is presented
    "transposed view": lambda a: np.ascontiguousarray(a.transpose(1, 0, 2)).transpose(1, 0, 2),
    "negative strides": lambda a: np.ascontiguousarray(a[::-1])[::-1],
    "Fortran order": np.asfortranarray,
    "read-only": lambda a: np.lib.stride_tricks.as_strided(a, writeable=False),
    "float64 into float32": lambda a: a,
    "list of lists": lambda a: a.tolist(),
}


@pytest.mark.parametrize("how", list(FOREIGN))
@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_foreign_layouts_work_and_inputs_are_not_modified(rng, backend, how):
    m = fastrnn.GRU(3, 4, num_layers=2, bidirectional=True, backend=backend, seed=0)
    x = rng.standard_normal((5, 2, 3))
    h0 = rng.standard_normal((4, 2, 4))
    gy = rng.standard_normal((5, 2, 8))
    want_y, want_h = m(x.astype(np.float32), h0.astype(np.float32))
    want_g = m.backward(gy.astype(np.float32))
    args = [FOREIGN[how](a.copy()) for a in (x, h0, gy)]
    before = [np.array(a, copy=True) for a in args]
    y, h = m(args[0], args[1])
    g = m.backward(args[2])
    for got, want in ((y, want_y), (h, want_h), (g[0], want_g[0]), (g[1], want_g[1])):
        np.testing.assert_array_equal(got, want)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(np.asarray(a), b)
