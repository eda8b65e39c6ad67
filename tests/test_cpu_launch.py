"""The team's parallel loop (kernels/cpu/runtime/launch.py): each member calls the kernel through the address
of the version numba compiled for exactly these argument types. A wrong version would read its
arguments with the wrong layout, so every kind of argument the kernels take is checked here, with
three members (the loop itself, not a team of one that calls the kernel directly)."""
from typing import NamedTuple

import numpy as np
import pytest
from numba.typed import List

from fastrnn.kernels.cpu.runtime import launch
from fastrnn.kernels.cpu.runtime import team
from fastrnn.kernels.cpu.runtime.jit import kernel

BLOCKS = [(0, 2), (2, 5), (5, 7)]


@kernel
def _fill(out, src, scale, flag, count, blocks, p):
    # out[r0:r1] = src[r0:r1] * scale (+ count if flag) + p, for member p's rows r0..r1
    for r in range(blocks[p, 0], blocks[p, 1]):
        out[r] = src[r] * scale + (count if flag else 0) + p


@kernel
def _sum_list(out, values, blocks, p):
    for r in range(blocks[p, 0], blocks[p, 1]):
        out[r] = values[r] + p


class _Rows(NamedTuple):
    src: np.ndarray
    scale: float
    flag: bool


class _Counts(NamedTuple):       # all fields of one type: numba's NamedUniTuple
    count: int
    offset: int


@kernel
def _fill_named(out, rows, counts, blocks, p):
    # _fill, with its arguments in NamedTuples
    for r in range(blocks[p, 0], blocks[p, 1]):
        out[r] = rows.src[r] * rows.scale + ((counts.count + counts.offset) if rows.flag else 0) + p


@kernel
def _returns(out, blocks, p):
    return out[0]


def _expected(src, scale, flag, count):
    member = np.repeat(np.arange(len(BLOCKS)), [r1 - r0 for r0, r1 in BLOCKS])
    return src * scale + (count if flag else 0) + member[:, None]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F", "strided", "readonly"])
def test_every_member_runs_the_version_for_its_arguments(rng, dtype, order):
    src = rng.integers(-100, 100, (7, 5)).astype(dtype)     # the sums below are exact
    if order == "F":
        src = np.asfortranarray(src)
    elif order == "strided":
        src = np.repeat(src, 2, axis=1)[:, ::2]
    elif order == "readonly":
        src.flags.writeable = False
    out = np.full((7, 5), np.nan, dtype)
    team.run(_fill, (out, src, dtype(1.5), True, 3), BLOCKS)
    np.testing.assert_array_equal(out, _expected(src, dtype(1.5), True, 3))


@pytest.mark.parametrize("flag", [True, False])
def test_named_and_nested_tuples_reach_every_member(rng, flag):
    # the parallel loop passes them flat (launch.flat); the kernel was compiled for the tuples.
    # A team of one calls the kernel directly (team.run): covered by every layer test.
    src = rng.integers(-100, 100, (7, 5)).astype(np.float64)
    out = np.full((7, 5), np.nan)
    team.run(_fill_named, (out, _Rows(src, 1.5, flag), _Counts(2, 1)), BLOCKS)
    np.testing.assert_array_equal(out, _expected(src, 1.5, flag, 3))


def test_tuples_nest_one_level_deep():
    with pytest.raises(TypeError, match="one level"):
        team.run(_fill_named, (np.zeros((7, 5)), ((np.zeros((7, 5)),),)), BLOCKS)


def test_one_compiled_version_per_argument_types():
    a32, b32 = np.zeros((7, 2), np.float32), np.ones((7, 2), np.float32)
    blocks = np.array(BLOCKS, np.int64)
    first = launch.address(_fill, (a32, b32, np.float32(2), False, 1), blocks)
    again = launch.address(_fill, (np.zeros((7, 3), np.float32), b32, np.float32(5), True, 4), blocks)
    wider = launch.address(_fill, (a32.astype(np.float64), b32.astype(np.float64), 2.0, False, 1), blocks)
    assert first == again != wider


def test_an_argument_without_a_type_fingerprint():
    # numba keys such values on their full type (a typed List here); so does launch.address.
    out = np.zeros(7)
    team.run(_sum_list, (out, List([float(r) for r in range(7)])), BLOCKS)
    np.testing.assert_array_equal(out, [0, 1, 3, 4, 5, 7, 8])


def test_a_member_must_return_none():
    with pytest.raises(TypeError, match="must return None"):
        team.run(_returns, (np.zeros(3),), BLOCKS)
