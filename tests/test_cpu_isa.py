"""The register tile numba compiles for another ISA than the host's (kernels/cpu/products/microkernel.py).

The tile's shape follows the ISA: 8 rows of zmm with AVX-512, 6 rows of ymm without. The host's
own shape runs in tests/test_cpu_panels.py; here an AVX-512 host compiles and runs the AVX2 one,
as a Zen 2 or Zen 3 would, with numba told a Zen 2's CPU name and features (both: with the name
alone numba still passes the host's features). An AVX2 host cannot run AVX-512 code, and compiles
the AVX2 tile natively, so there the test is skipped.
"""
import os
import subprocess
import sys

import llvmlite.binding as llvm
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZEN2_FEATURES = ("+64bit,+adx,+aes,+avx,+avx2,+bmi,+bmi2,+clflushopt,+clwb,+clzero,+cmov,+crc32,+cx16,+cx8,"
                 "+f16c,+fma,+fsgsbase,+fxsr,+lzcnt,+mmx,+movbe,+pclmul,+popcnt,+prfchw,+rdpid,+rdrnd,+rdseed,"
                 "+sahf,+sha,+sse,+sse2,+sse3,+sse4.1,+sse4.2,+sse4a,+ssse3,+wbnoinvd,+xsave,+xsavec,+xsaveopt,"
                 "+xsaves")


@pytest.mark.skipif("+avx512f" not in llvm.get_host_cpu_features().flatten(),
                    reason="this host compiles the AVX2 tile natively: tests/test_cpu_panels.py runs it")
def test_avx2_tile_on_an_avx512_host(tmp_path):
    env = dict(os.environ, NUMBA_CPU_NAME="znver2", NUMBA_CPU_FEATURES=ZEN2_FEATURES,
               NUMBA_CACHE_DIR=str(tmp_path))
    shape = subprocess.run(
        [sys.executable, "-c", "from fastrnn.kernels.cpu.products import microkernel as m; "
                               "print(m.VECTOR_BYTES, m.PANEL_BYTES, m.TILE_ROWS)"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert shape.returncode == 0, shape.stderr[-3000:]
    assert shape.stdout.split() == ["32", "64", "6"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_cpu_panels.py"],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
