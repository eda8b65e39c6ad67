"""The CPU speed targets of the benchmark suite, read off a `fastrnn bench` results.json.

    python -m fastrnn.bench.targets bench/results/<run>/results.json

ratio = torch time / fastrnn time (forward+backward); % peak against the run's measured sgemm peak.
Targets: LSTM >= 1x on every shape with B >= 8 and >= 2x at B = 1; GRU >= 1.5x geometric mean
and >= 3x at B = 1; at B >= 32 (T > 1), >= 75% of the sgemm peak.
"""
import json
import math
import sys


def _geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def _ratios(rows, cell, where):
    return [(r["torch_s"] / r["fastrnn_s"], r) for r in rows if r["cell"] == cell and where(r)]


def _shape(r):
    return f"T={r['T']} B={r['B']} H={r['H']}"


def _summary(pairs, bound):
    if not pairs:                   # a run of other cells or shapes (--cell, --shapes)
        return "no shapes in this run", False
    met = sum(1 for x, _ in pairs if x >= bound)
    lo = min(pairs, key=lambda p: p[0])
    return (f"{met} of {len(pairs)} shapes; geomean {_geomean([x for x, _ in pairs]):.2f}x, "
            f"min {lo[0]:.2f}x ({_shape(lo[1])})"), met == len(pairs)


def report(results):
    rows = [r for r in results["rows"] if r.get("torch_s")]
    peak = results["sgemm_peak_gflops"]
    lines = ["| target | result | met |", "|---|---|---|"]
    text, ok = _summary(_ratios(rows, "lstm", lambda r: r["B"] >= 8), 1.0)
    lines.append(f"| LSTM >= 1.0x on every shape with B >= 8 | {text} | {'yes' if ok else 'no'} |")
    text, ok = _summary(_ratios(rows, "lstm", lambda r: r["B"] == 1), 2.0)
    lines.append(f"| LSTM >= 2x at B = 1 | {text} | {'yes' if ok else 'no'} |")
    gru = [x for x, _ in _ratios(rows, "gru", lambda r: True)]
    text = f"{_geomean(gru):.2f}x over {len(gru)} shapes" if gru else "no shapes in this run"
    lines.append(f"| GRU >= 1.5x geometric mean | {text} | {'yes' if gru and _geomean(gru) >= 1.5 else 'no'} |")
    text, ok = _summary(_ratios(rows, "gru", lambda r: r["B"] == 1), 3.0)
    lines.append(f"| GRU >= 3x at B = 1 | {text} | {'yes' if ok else 'no'} |")
    parts, all_ok = [], True
    for cell in dict.fromkeys(r["cell"] for r in rows):
        pct = [100 * r["flops"] / r["fastrnn_s"] / 1e9 / peak for r in rows
               if r["cell"] == cell and r["B"] >= 32 and r["T"] > 1]
        if pct:
            parts.append(f"{cell.upper()} {min(pct):.0f}-{max(pct):.0f}% ({sum(p >= 75 for p in pct)} of {len(pct)})")
            all_ok = all_ok and min(pct) >= 75
    lines.append(f"| >= 75% of the sgemm peak at B >= 32 (T > 1) | {', '.join(parts)} | {'yes' if all_ok else 'no'} |")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m fastrnn.bench.targets RESULTS_JSON")
    with open(argv[0]) as f:
        print(report(json.load(f)))


if __name__ == "__main__":
    main()
