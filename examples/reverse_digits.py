"""Sequence to sequence with teacher forcing: learn to reverse a string of digits.

    pip install ".[examples]" && python examples/reverse_digits.py

Sources are 3 to 8 random digits; the target is the same digits reversed, then an end token.
A GRU encoder reads the padded batch with its lengths; its final state starts a GRU decoder
that is fed the true previous digit half of the time (teacher forcing) and its own guess
otherwise. At test time it decodes greedily until the end token. CPU, about a minute.
"""
import numpy as np

from fastrnn.training import Adam, Seq2Seq, clip_grad_norm

BOS, EOS, VOCAB = 10, 11, 12


def batch(rng, n, lo=3, hi=8):
    lengths = rng.integers(lo, hi + 1, n)
    src = np.full((n, hi), EOS)
    tgt = np.full((n, hi + 1), EOS)
    for i, k in enumerate(lengths):
        digits = rng.integers(0, 10, k)
        src[i, :k] = digits
        tgt[i, :k] = digits[::-1]                       # then EOS, already there
    return src, lengths, tgt, lengths + 1


def exact_match(model, rng, n=500):
    src, lengths, tgt, _ = batch(rng, n)
    out = model.greedy(src, lengths, max_len=src.shape[1] + 1)
    return float(np.mean([len(o) == k and (o == t[:k]).all() for o, k, t in zip(out, lengths, tgt)]))


def main(steps=1500, hidden=64, batch_size=64, teacher_forcing=0.5, seed=0, log=print):
    rng = np.random.default_rng(seed)
    model = Seq2Seq(VOCAB, hidden, bos=BOS, eos=EOS, cell="GRU", embed=16, seed=seed)
    opt = Adam([model], lr=5e-3)
    losses = []
    for step in range(1, steps + 1):
        loss = model.loss_and_grads(*batch(rng, batch_size), teacher_forcing=teacher_forcing, rng=rng)
        clip_grad_norm(model, 1.0)
        opt.step()
        losses.append(loss)
        if step % 250 == 0 or step == steps:
            acc = exact_match(model, np.random.default_rng(seed + 1))
            log(f"step {step:5d}  loss {np.mean(losses[-250:]):.3f}  exact-match {acc:.3f}")
    return acc


if __name__ == "__main__":
    main()
