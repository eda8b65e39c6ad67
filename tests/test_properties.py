"""Property-based tests (hypothesis): over random shapes, layer options and dtypes, the kernels
agree with the reference, and a valid forward then backward never raises."""
import numpy as np
from helpers import MODES, assert_close64, assert_within_rule, jittered, make_problem, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

problems = st.fixed_dictionaries(dict(
    mode=st.sampled_from(MODES),
    T=st.integers(1, 6), B=st.integers(1, 4), I=st.integers(1, 6), H=st.integers(1, 9),
    num_layers=st.integers(1, 2), bidirectional=st.booleans(), bias=st.booleans(),
    layout=st.sampled_from(["time-major", "batch_first", "unbatched"]),
    dtype=st.sampled_from(["float32", "float64"]),
    seed=st.integers(0, 2**32 - 1),
))
SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _problem(d):
    p = make_problem(np.random.default_rng(d["seed"]), d["mode"], d["T"], d["B"], d["I"], d["H"],
                     num_layers=d["num_layers"], bidirectional=d["bidirectional"], bias=d["bias"],
                     batch_first=d["layout"] == "batch_first", unbatched=d["layout"] == "unbatched")
    return p, np.dtype(d["dtype"]).type


def _agrees_with_the_reference(d, backend):
    p, dtype = _problem(d)
    got = run(p, backend, dtype)            # forward then backward: must not raise
    if dtype is np.float64:
        assert_close64(got, run(p, "reference", np.float64))
    else:
        assert_within_rule(got, run(p, "reference", np.float64), run(p, "reference", np.float32),
                           run(jittered(p), "reference", np.float64))


@settings(max_examples=60, **SETTINGS)
@given(problems)
def test_cpu_agrees_with_the_reference(d):
    _agrees_with_the_reference(d, "cpu")


@settings(max_examples=15, **SETTINGS)
@given(problems)
def test_cuda_agrees_with_the_reference(d):
    # On the simulator here: a few examples, each a handful of kernel launches.
    _agrees_with_the_reference(d, "cuda")
