"""Many-to-one: classify handwritten digits read one pixel row at a time.

    pip install ".[examples]" && python examples/digits_rows.py

scikit-learn's bundled digits (1,797 images of 8x8 pixels) become sequences of 8 steps of
8 features. An LSTM reads the rows; a dense layer classifies its last hidden state. Adam,
gradient clipping, CPU, about half a minute.
"""
import numpy as np
from sklearn.datasets import load_digits

import fastrnn
from fastrnn.training import Adam, Linear, clip_grad_norm, softmax_cross_entropy


def data(seed=0):
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)           # (N, 8 rows, 8 pixels) in [0, 1]
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    return x[train], digits.target[train], x[test], digits.target[test]


def accuracy(lstm, head, x, y):
    out, _ = lstm(x, need_grad=False)
    return float((head(out[:, -1]).argmax(1) == y).mean())


def main(epochs=30, hidden=64, batch=64, seed=0, log=print):
    x_train, y_train, x_test, y_test = data(seed)
    lstm = fastrnn.LSTM(8, hidden, batch_first=True, seed=seed)
    head = Linear(hidden, 10, seed=seed)
    opt = Adam([lstm, head], lr=1e-2)
    rng = np.random.default_rng(seed)
    for epoch in range(1, epochs + 1):
        losses = []
        for idx in np.array_split(rng.permutation(len(x_train)), len(x_train) // batch):
            out, _ = lstm(x_train[idx])                       # (b, 8, hidden)
            loss, grad_logits = softmax_cross_entropy(head(out[:, -1]), y_train[idx])
            grad_out = np.zeros_like(out)
            grad_out[:, -1] = head.backward(grad_logits)      # only the last step is classified
            lstm.backward(grad_out)
            clip_grad_norm([lstm, head], 5.0)
            opt.step()
            losses.append(loss)
        acc = accuracy(lstm, head, x_test, y_test)
        log(f"epoch {epoch:2d}  train loss {np.mean(losses):.3f}  test accuracy {acc:.3f}")
    return acc


if __name__ == "__main__":
    main()
