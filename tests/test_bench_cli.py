"""`fastrnn bench`: the grid, the FLOP formula, the report files. No timing is asserted here."""
import json

import numpy as np
import pytest

from fastrnn.__main__ import main as cli
from fastrnn.bench import grid, report


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
