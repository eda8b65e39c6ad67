"""`python -m fastrnn.bench.phases`: every phase of the CPU layer is timed, and the FLOPs add up.
No timing is asserted here, only that each phase was reached and the parts fit in the whole."""
import pytest

from fastrnn.bench import grid, phases


@pytest.mark.parametrize("cell", sorted(grid.GATES))
def test_phase_flops_add_up_to_the_grid_formula(cell):
    T, B, I, H = 3, 2, 5, 7
    assert sum(phases.phase_flops(cell, T, B, I, H).values()) == grid.flops(cell, T, B, I, H)


@pytest.mark.parametrize("cell", sorted(grid.GATES))
def test_every_phase_is_timed_and_the_parts_fit_in_the_total(cell):
    # With 2 calls each median is a mean, so the phases' (timed inside each call) cannot exceed
    # the total's.
    times = phases.profile(cell, 4, 3, 5, 6, calls=2)
    assert all(times[p] > 0 for p in phases.PHASES), times
    parts = sum(times[p] for p in phases.PHASES)
    assert parts <= times["total"] * (1 + 1e-9)
    assert times["rest"] == pytest.approx(times["total"] - parts, abs=1e-9)


def test_the_layer_is_restored_after_the_run():
    from fastrnn.kernels.cpu import layer
    before = {f: getattr(layer, f) for f in ("_project", "_sweep", "_input_grad", "_weight_grads")}
    phases.profile("gru", 2, 2, 3, 4, calls=1)
    assert {f: getattr(layer, f) for f in before} == before


def test_cli_prints_a_table_per_shape(capsys):
    assert phases.main(["--cell", "rnn", "--shapes", "3x2x8,2x1x4x6", "--calls", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("per forward+backward") == 2
    for p in phases.PHASES + ("rest",):
        assert out.count(f"\n{p} ") == 2


def test_cli_rejects_bad_arguments():
    with pytest.raises(SystemExit):
        phases.main(["--shapes", "3x2"])
    with pytest.raises(SystemExit):
        phases.main(["--shapes", "3x2x8", "--calls", "0"])
