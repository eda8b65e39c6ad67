"""CPU kernels against the reference: every output and every gradient, odd shapes, random
upstream gradients. float64 tightly; float32 under the tolerance rule (helpers.py)."""
import numpy as np
import pytest
from helpers import (MODES, assert_close64, assert_inference_matches_training, assert_within_rule, jittered,
                     make_problem, run)

SHAPES = {
    # name: (T, B, I, H, extra options) -- each odd shape carries its reason
    "base":          (5, 3, 4, 7, {}),
    "T=1":           (1, 3, 4, 7, {}),                       # no recurrence: h0 only feeds step 0
    "H=1":           (4, 2, 3, 1, {}),                       # gate blocks one element apart
    "H=37":          (3, 2, 5, 37, {}),                      # not a multiple of any vector width
    "H=129":         (2, 2, 3, 129, {}),                     # one past a power of two: loop remainder
    "B=1":           (6, 1, 4, 7, {}),                       # GEMV per step
    "2layers":       (4, 3, 5, 6, dict(num_layers=2)),       # layer 1 input size is H, not I
    "bidirectional": (4, 3, 5, 6, dict(bidirectional=True)),
    "2layers-bidir": (3, 2, 4, 5, dict(num_layers=2, bidirectional=True)),   # layer 1 input 2H
    "batch_first":   (4, 3, 5, 6, dict(batch_first=True)),
    "unbatched":     (4, 1, 5, 6, dict(unbatched=True)),
    "no-bias":       (4, 3, 5, 6, dict(bias=False)),
}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("mode", MODES)
def test_cpu_float64_matches_reference(rng, weight_form, mode, shape):
    T, B, I, H, opts = SHAPES[shape]
    p = make_problem(rng, mode, T, B, I, H, **opts)
    assert_close64(run(p, "cpu", np.float64), run(p, "reference", np.float64))


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("mode", MODES)
def test_cpu_float32_within_tolerance_rule(rng, weight_form, mode, shape):
    T, B, I, H, opts = SHAPES[shape]
    p = make_problem(rng, mode, T, B, I, H, **opts)
    assert_within_rule(run(p, "cpu", np.float32), run(p, "reference", np.float64),
                       run(p, "reference", np.float32), run(jittered(p), "reference", np.float64))


@pytest.mark.parametrize("mode", MODES)
def test_cpu_float32_longer_sequence(rng, mode):
    # Error accumulates through the recurrence: a longer, wider case for the float32 rule.
    p = make_problem(rng, mode, T=40, B=4, I=16, H=48, num_layers=2, bidirectional=True)
    assert_within_rule(run(p, "cpu", np.float32), run(p, "reference", np.float64),
                       run(p, "reference", np.float32), run(jittered(p), "reference", np.float64))


@pytest.mark.parametrize("mode", MODES)
def test_inference_forward_matches_training_forward(rng, mode):
    # need_grad=False keeps only one step of what backward needs.
    assert_inference_matches_training(make_problem(rng, mode, T=6, B=2, I=3, H=5, bidirectional=True), "cpu")
