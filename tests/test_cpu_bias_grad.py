"""Phase 3's bias sums (kernels/cpu/products/bias_grad.py): float32 in, sums exact to float32 rounding."""
import numpy as np
import pytest

from fastrnn.kernels.cpu.products.bias_grad import column_sums


@pytest.mark.parametrize("m, n", [(1, 1), (7, 3), (3001, 37)])
def test_column_sums_round_once(rng, m, n):
    # Offset values, so a float32 running sum of 3001 rows would drift by many ulps.
    a = (rng.standard_normal((m, n)) + 3).astype(np.float32)
    got = column_sums(a, np.full(n, np.nan, np.float32))
    exact = a.astype(np.float64).sum(0)
    assert got.dtype == np.float32
    assert np.all(np.abs(got - exact) <= 0.5 * np.spacing(np.abs(got)) * (1 + 1e-6))


def test_column_sums_float64_and_nonfinite(rng):
    a = rng.standard_normal((50, 4))
    a[3, 1], a[7, 2], a[9, 3] = np.nan, np.inf, -np.inf
    got = column_sums(a, np.empty(4))
    np.testing.assert_allclose(got[0], a[:, 0].sum(), rtol=1e-14)
    assert np.isnan(got[1]) and got[2] == np.inf and got[3] == -np.inf
