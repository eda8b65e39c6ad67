"""Time-series forecasting: next year's sunspot number from the last 24 years.

    pip install ".[examples]" && python examples/sunspots_forecast.py

statsmodels bundles the yearly sunspot numbers, 1700-2008. A GRU reads a window of 24 years
(scaled), a dense layer predicts the next; trained on the years up to 1946, judged on the
years after, against the naive forecast "next year = this year". CPU, a few seconds.
"""
import numpy as np
from statsmodels.datasets import sunspots

import fastrnn
from fastrnn.training import Adam, Linear

WINDOW = 24


def data():
    series = sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(np.float32)
    split = int(0.8 * len(series))
    scale = series[:split].max()                                  # from the training years only
    s = series / scale
    idx = np.arange(WINDOW, len(s))
    x = np.stack([s[i - WINDOW:i] for i in idx])[:, :, None]       # (N, WINDOW, 1)
    y = s[idx]
    train = idx < split
    return x[train], y[train], x[~train], y[~train], scale


def main(epochs=300, hidden=32, seed=0, log=print):
    x_train, y_train, x_test, y_test, scale = data()
    gru = fastrnn.GRU(1, hidden, batch_first=True, seed=seed)
    head = Linear(hidden, 1, seed=seed)
    opt = Adam([gru, head], lr=3e-3)
    for epoch in range(1, epochs + 1):
        out, _ = gru(x_train)
        err = head(out[:, -1])[:, 0] - y_train
        grad_out = np.zeros_like(out)
        grad_out[:, -1] = head.backward((2 * err / len(err))[:, None].astype(np.float32))
        gru.backward(grad_out)
        opt.step()
        if epoch % 50 == 0 or epoch == epochs:
            out, _ = gru(x_test, need_grad=False)
            mae = float(np.abs(head(out[:, -1])[:, 0] - y_test).mean() * scale)
            log(f"epoch {epoch:3d}  train mse {float((err ** 2).mean()):.4f}  test MAE {mae:.1f} sunspots")
    naive = float(np.abs(x_test[:, -1, 0] - y_test).mean() * scale)
    log(f"held-out years: model MAE {mae:.1f}, naive 'next year = this year' MAE {naive:.1f}")
    return mae, naive


if __name__ == "__main__":
    main()
