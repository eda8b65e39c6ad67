"""A one-step layer call (kernels/cpu/once.py) on one member and on the whole team: where splitting
pays for the team's launch (kernels/cpu/layer.ONCE_SPLIT).

    python bench/once_split.py

For LSTM and GRU at H 64..512 and B 1, 8, 32 (I = H), the forward (need_grad=False) and the
forward+backward of kernels/cpu/layer.py at T=1, timed with every split forced one way, then the
other: `work` is what layer._once_units weighs (few_rows.py's count, before ONCE_SPLIT), and
`team/1` the ratio of the one-member time to the team's (> 1: splitting pays). Minimum of 7
repeats of a few thousand calls each, microseconds per call.
"""
import timeit

import numpy as np

from fastrnn.kernels.cpu import layer
from fastrnn.kernels.cpu.products.few_rows import ELEMENT_WORK
from fastrnn.kernels.cpu.runtime import team


def per_call(fn, calls):
    fn()
    return min(timeit.repeat(fn, number=calls, repeat=7)) / calls


def main():
    rng = np.random.default_rng(0)
    print(f"team of {team.size()} | us per call, minimum of 7 repeats")
    print(f"{'cell':5} {'H':>4} {'B':>3} {'work M':>7} {'fwd 1':>8} {'fwd team':>9} {'team/1':>7} "
          f"{'f+b 1':>8} {'f+b team':>9} {'team/1':>7}")
    for mode, G in (("LSTM", 4), ("GRU", 3)):
        for H in (64, 128, 256, 512):
            for B in (1, 8, 32):
                x = rng.standard_normal((1, B, H), dtype=np.float32)
                state = tuple(rng.standard_normal((B, H), dtype=np.float32) for _ in range(2 if G == 4 else 1))
                w = [rng.uniform(-0.1, 0.1, s).astype(np.float32) for s in ((G * H, H), (G * H, H), G * H, G * H)]
                dy = rng.standard_normal((1, B, H), dtype=np.float32)

                def fwd():
                    layer.forward(mode, x, state, *w, need_grad=False)

                def fwd_bwd():
                    _, _, saved = layer.forward(mode, x, state, *w)
                    layer.backward(saved, dy, state)
                calls = max(200, 200000 // (B * H))
                row = []
                for fn in (fwd, fwd_bwd):
                    for min_call_work in (1 << 62, 0):      # one member; every split allowed
                        with team.configured(min_call_work=min_call_work):
                            row.append(per_call(fn, calls) * 1e6)
                work = (B + ELEMENT_WORK) * G * H * 2 * H / 2**20
                print(f"{mode:5} {H:4d} {B:3d} {work:7.2f} {row[0]:8.1f} {row[1]:9.1f} {row[0] / row[1]:7.2f} "
                      f"{row[2]:8.1f} {row[3]:9.1f} {row[2] / row[3]:7.2f}")


if __name__ == "__main__":
    main()
