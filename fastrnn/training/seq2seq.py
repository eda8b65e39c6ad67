"""Encoder-decoder (seq2seq) over token sequences, with teacher forcing and greedy decoding.

    model = Seq2Seq(vocab=12, hidden=64, bos=10, eos=11, cell="GRU", seed=0)
    loss = model.loss_and_grads(src, src_lengths, tgt, tgt_lengths, teacher_forcing=0.5)  # fills grads
    Adam([model], lr=1e-2).step()
    out = model.greedy(src, src_lengths, max_len=12)          # token lists, EOS removed

Shapes: B batch, S source steps, L target steps, V vocabulary, E embedding, H hidden. Tokens are
padded (B, S) / (B, L) integer arrays with their lengths; targets end with EOS.
The encoder is a fastrnn layer run once over the padded source (lengths: each sequence's final
state is its own); that state starts the decoder, a one-layer cell of the same kind run one step at
a time, because each step's input is the previous target token (teacher forcing, at a settable
ratio) or the model's own previous prediction. Backward goes through the decoder's steps in
reverse (one saved context per step), into the encoder's final state, then through the encoder.
"""
import numpy as np

from .. import functional
from ..modules import GRU, LSTM
from .linear import Linear, softmax_cross_entropy


class Seq2Seq:
    def __init__(self, vocab, hidden, bos, eos, cell="GRU", embed=None, dtype="float32", seed=None):
        if cell not in ("GRU", "LSTM"):
            raise ValueError(f"cell must be 'GRU' or 'LSTM'; got {cell!r}")
        self.vocab, self.hidden, self.bos, self.eos, self.mode = vocab, hidden, bos, eos, cell
        E = embed or hidden
        rng = np.random.default_rng(seed)
        layer = LSTM if cell == "LSTM" else GRU
        self.embedding = rng.standard_normal((vocab, E)).astype(dtype) * 0.1
        self.encoder = layer(E, hidden, dtype=dtype, seed=rng.integers(2**31))
        self.decoder = layer(E, hidden, dtype=dtype, seed=rng.integers(2**31))
        self.head = Linear(hidden, vocab, dtype=dtype, seed=rng.integers(2**31))
        self.grads = {}

    def named_parameters(self):
        out = [("embedding", self.embedding)]
        for prefix, part in (("encoder.", self.encoder), ("decoder.", self.decoder), ("head.", self.head)):
            out += [(prefix + k, v) for k, v in part.named_parameters()]
        return out

    def _decode_step(self, tokens, state, need_grad):
        """One decoder step for every sequence: tokens (B,) -> h (B, H), new state, context."""
        x = self.embedding[tokens][None]                                 # (1, B, E)
        y, state, ctx = functional.forward(self.mode, x, state, self.decoder._params,
                                           dtype=self.embedding.dtype, need_grad=need_grad)
        return y[0], state, ctx

    def loss_and_grads(self, src, src_lengths, tgt, tgt_lengths, teacher_forcing=1.0, rng=None):
        """Mean cross-entropy over the target tokens (EOS included); fills self.grads.
        Each step feeds the true previous token with probability teacher_forcing, else the
        model's own prediction (per sequence)."""
        rng = rng or np.random.default_rng()
        B, L = tgt.shape
        x = self.embedding[src]                                          # (B, S, E)
        enc_in = np.ascontiguousarray(x.transpose(1, 0, 2))
        _, state, enc_ctx = functional.forward(self.mode, enc_in, None, self.encoder._params,
                                               lengths=src_lengths, dtype=self.embedding.dtype)
        tokens = np.full(B, self.bos)
        inputs, hs, ctxs = [], [], []
        for t in range(L):
            inputs.append(tokens)
            h, state, ctx = self._decode_step(tokens, state, True)
            hs.append(h)
            ctxs.append(ctx)
            predicted = self.head(h).argmax(1)
            tokens = np.where(rng.random(B) < teacher_forcing, tgt[:, t], predicted)

        # loss over the real target positions
        hs = np.stack(hs)                                                # (L, B, H)
        mask = np.arange(L)[:, None] < np.asarray(tgt_lengths)[None, :]  # (L, B)
        logits = self.head(hs[mask])                                     # (N, V)
        loss, grad_logits = softmax_cross_entropy(logits, tgt.T[mask])
        grad_hs = np.zeros_like(hs)
        grad_hs[mask] = self.head.backward(grad_logits)
        grads = {"head." + k: v for k, v in self.head.grads.items()}

        # decoder, step by step in reverse; its first state's gradient goes to the encoder
        g_emb = np.zeros_like(self.embedding)
        g_state, dec = None, {}
        for t in reversed(range(L)):
            gx, g_state, g = functional.backward(ctxs[t], grad_hs[t][None], g_state)
            np.add.at(g_emb, inputs[t], gx[0])
            dec = g if not dec else {k: dec[k] + g[k] for k in g}
        gx, _, enc = functional.backward(enc_ctx, None, g_state)
        np.add.at(g_emb, src.T, gx)                                      # padding rows get zero gx
        grads.update({"decoder." + k: v for k, v in dec.items()})
        grads.update({"encoder." + k: v for k, v in enc.items()})
        grads["embedding"] = g_emb
        self.grads = grads
        return loss

    def greedy(self, src, src_lengths, max_len):
        """Greedy decoding: the most likely token at each step, fed back, until EOS or max_len.
        Returns a list of B token arrays (without EOS)."""
        B = src.shape[0]
        enc_in = np.ascontiguousarray(self.embedding[src].transpose(1, 0, 2))
        _, state, _ = functional.forward(self.mode, enc_in, None, self.encoder._params,
                                         lengths=src_lengths, dtype=self.embedding.dtype, need_grad=False)
        tokens = np.full(B, self.bos)
        out, done = [], np.zeros(B, bool)
        for _ in range(max_len):
            h, state, _ = self._decode_step(tokens, state, False)
            tokens = self.head(h).argmax(1)
            out.append(np.where(done, self.eos, tokens))
            done |= tokens == self.eos
            if done.all():
                break
        out = np.stack(out, 1)
        return [row[:np.argmax(row == self.eos)] if (row == self.eos).any() else row for row in out]
