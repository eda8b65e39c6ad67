"""`fastrnn bench`: the grid, the FLOP formula, the report files. No timing is asserted here."""
import json

import numpy as np
import pytest

from fastrnn.__main__ import main as cli
from fastrnn.bench import grid, report, targets


def test_flop_formula_counts_the_gemms():
    # LSTM forward: x W_ih^T is 2*T*B*4H*I, h W_hh^T is 2*T*B*4H*H; backward twice forward.
    T, B, I, H = 3, 2, 5, 7
    assert grid.flops("lstm", T, B, I, H, "forward") == 2 * T * B * 4 * H * I + 2 * T * B * 4 * H * H
    assert grid.flops("gru", T, B, I, H, "backward") == 2 * grid.flops("gru", T, B, I, H, "forward")
    assert grid.flops("rnn", T, B, I, H) == 3 * grid.flops("rnn", T, B, I, H, "forward")


def test_full_grid_is_the_declared_one():
    assert {(T, B, H) for T, B, I, H in grid.FULL} == {
        (T, B, H) for T in (1, 100, 500) for B in (1, 8, 32, 64) for H in (128, 256, 512, 1024)}
    assert all(I == H for _, _, I, H in grid.FULL)


def test_parse_shapes():
    assert grid.parse_shapes("100x32x256, 1x1x64x512") == [(100, 32, 256, 256), (1, 1, 64, 512)]
    for bad in ("100x32", "0x1x8", "axbxc", ""):
        with pytest.raises(ValueError, match="--shapes"):
            grid.parse_shapes(bad)


def _rows():
    return [dict(cell=c, T=T, B=B, I=64, H=64, flops=grid.flops(c, T, B, 64, 64),
                 fastrnn_s=1e-3 * B, torch_s=2e-3 * B, first_call_s=0.5)
            for c in ("lstm", "gru") for T in (1, 10) for B in (1, 4)]


def test_table_has_a_block_per_cell_with_ratio_and_peak():
    text = report.table(_rows(), peak=100.0)
    assert text.count("fastrnn ms") == 2 and "LSTM" in text and "GRU" in text
    first = next(line for line in text.splitlines() if line.strip().startswith("1    1"))
    # ratio 2.00; GFLOP/s = 6*1*1*4*64*128 / 1e-3 / 1e9 = 0.197 -> 0.2 and 0% of a 100 GFLOP/s peak
    assert first.split()[6] == "2.00" and first.split()[7] == "0.2"


def test_plot_writes_a_png(tmp_path):
    assert report.plot(str(tmp_path / "r.png"), _rows())
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_end_to_end_writes_table_and_json(tmp_path, capsys):
    assert cli(["bench", "--shapes", "2x2x8", "--cell", "gru", "--repeats", "1", "--no-torch",
                "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "GRU" in out and "sgemm peak" in out
    data = json.loads((tmp_path / "results.json").read_text())
    assert [(r["cell"], r["T"], r["B"], r["I"], r["H"]) for r in data["rows"]] == [("gru", 2, 2, 8, 8)]
    assert np.isfinite(data["rows"][0]["fastrnn_s"]) and data["rows"][0]["torch_s"] is None
    assert (tmp_path / "table.txt").read_text().startswith("fastrnn ")


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        cli(["bench", "--shapes", "1x2"])
    assert cli(["unknown"]) == 2


def test_cli_cuda_on_the_simulator(tmp_path, capsys):
    # The GPU benchmark's code path end to end, as bench/gpu_suite.sh --dry-run runs it.
    assert cli(["bench", "--backend", "cuda", "--cell", "gru", "--shapes", "2x2x8", "--no-torch",
                "--repeats", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "GRU" in out and "kernel" in out
    row = json.loads((tmp_path / "results.json").read_text())["rows"][0]
    assert np.isfinite(row["fastrnn_s"]) and row["plan"].split()[0] in ("persistent:", "step")


def test_cli_cuda_without_a_gpu_says_so():
    # No GPU and no simulator: a clear error, not a traceback.
    import os
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0", CUDA_VISIBLE_DEVICES="")   # hides a GPU if any
    r = subprocess.run([sys.executable, "-m", "fastrnn", "bench", "--backend", "cuda"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "no usable CUDA GPU" in r.stderr, r.stderr


def test_targets_read_off_results():
    # LSTM ratios 2.0 and 0.5 at B=8, and 1x at B=32/64 with flops making 80% and 50% of the peak;
    # GRU 4x and 1x at B=1.
    def row(cell, T, B, fastrnn_s, torch_s, flops=1e9):
        return dict(cell=cell, T=T, B=B, I=8, H=8, flops=flops, fastrnn_s=fastrnn_s, torch_s=torch_s)
    results = {"sgemm_peak_gflops": 100.0, "rows": [
        row("lstm", 100, 8, 1.0, 2.0), row("lstm", 100, 8, 2.0, 1.0), row("lstm", 100, 1, 1.0, 3.0),
        row("gru", 100, 1, 1.0, 4.0), row("gru", 1, 1, 1.0, 1.0),
        row("lstm", 100, 32, 0.0125, 0.0125), row("lstm", 100, 64, 0.02, 0.02)]}
    text = targets.report(results)
    assert "| LSTM >= 1.0x on every shape with B >= 8 | 3 of 4 shapes; geomean 1.00x, min 0.50x (T=100 B=8 H=8) | no |" in text
    assert "| LSTM >= 2x at B = 1 | 1 of 1 shapes; geomean 3.00x, min 3.00x (T=100 B=1 H=8) | yes |" in text
    assert "| GRU >= 1.5x geometric mean | 2.00x over 2 shapes | yes |" in text
    assert "| GRU >= 3x at B = 1 | 1 of 2 shapes; geomean 2.00x, min 1.00x (T=1 B=1 H=8) | no |" in text
    assert "LSTM 50-80% (1 of 2)" in text


def test_targets_of_a_run_of_one_cell():
    # fastrnn bench --cell gru: the LSTM targets have no shapes and say so; none is met.
    results = {"sgemm_peak_gflops": 100.0, "rows": [
        dict(cell="gru", T=100, B=1, I=8, H=8, flops=1e9, fastrnn_s=1.0, torch_s=4.0)]}
    text = targets.report(results)
    assert "| LSTM >= 1.0x on every shape with B >= 8 | no shapes in this run | no |" in text
    assert "| GRU >= 3x at B = 1 | 1 of 1 shapes; geomean 4.00x, min 4.00x (T=100 B=1 H=8) | yes |" in text


def test_cells_cli_writes_rows_side_by_side(tmp_path, capsys, monkeypatch):
    # One row of each API, short timing: the table and JSON carry both sides and the target.
    from fastrnn.bench import cells, timing
    monkeypatch.setattr(cells, "ROWS", [("cell", "gru", 2, 8, 1), ("torch", "lstm", 1, 8, 1),
                                        ("layer", "lstm", 1, 8, 2)])
    monkeypatch.setattr(cells, "SAMPLES", 1)
    monkeypatch.setattr(cells, "SAMPLE_S", 1e-4)
    monkeypatch.setattr(timing, "SETTLE_S", 0.0)
    assert cli(["bench", "--cells", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "torch/fastrnn" in out and "one forward step per call" in out
    rows = json.loads((tmp_path / "cells.json").read_text())["rows"]
    assert [(r["api"], r["cell"], r["B"], r["H"], r["layers"]) for r in rows] == cells.ROWS
    for r in rows:
        assert r["fastrnn_s"] > 0 and r["torch_s"] > 0
    assert [r["target"] for r in rows] == [3.0, 2.0, 3.0]
    assert rows[2]["flops"] == 2 * 1 * 4 * 8 * 16 * 2


def test_cells_cli_refuses_grid_options(capsys):
    with pytest.raises(SystemExit):
        cli(["bench", "--cells", "--quick"])
    assert "--cells takes only --out" in capsys.readouterr().err
