"""fastrnn.training: clipping and optimisers against torch's, truncated BPTT against full BPTT
and against torch with the state detached at chunk boundaries."""
import numpy as np
import pytest
import torch

import fastrnn
from fastrnn.training import SGD, Adam, clip_grad_norm, clip_grad_value, truncated_bptt


def _grads(rng, scale):
    return [{"w": rng.standard_normal((4, 3)) * scale, "b": rng.standard_normal(4) * scale},
            {"w": rng.standard_normal((2, 5)) * scale}]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, np.inf])
@pytest.mark.parametrize("scale", [0.01, 10.0], ids=["under", "over"])
def test_clip_grad_norm_matches_torch(rng, norm_type, scale):
    grads = _grads(rng, scale)
    tensors = [torch.tensor(a) for d in grads for a in d.values()]
    for t in tensors:
        t.grad = t.clone()
    want = torch.nn.utils.clip_grad_norm_(tensors, max_norm=1.5, norm_type=norm_type)
    got = clip_grad_norm(grads, 1.5, norm_type)
    assert got == pytest.approx(float(want), rel=1e-12)
    for a, t in zip([a for d in grads for a in d.values()], tensors):
        np.testing.assert_allclose(a, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_matches_torch(rng):
    grads = _grads(rng, 3.0)
    tensors = [torch.tensor(a) for d in grads for a in d.values()]
    for t in tensors:
        t.grad = t.clone()
    torch.nn.utils.clip_grad_value_(tensors, 0.7)
    clip_grad_value(grads, 0.7)
    for a, t in zip([a for d in grads for a in d.values()], tensors):
        np.testing.assert_array_equal(a, t.grad.numpy())


def test_clipping_works_on_layers_and_rejects_bad_arguments(rng):
    m = fastrnn.GRU(3, 4, dtype="float64", seed=0)
    y, _ = m(rng.standard_normal((5, 2, 3)))
    m.backward(rng.standard_normal(y.shape) * 100)
    before = clip_grad_norm(m, 0.5)
    assert before > 0.5
    assert np.sqrt(sum(float(np.sum(g * g)) for g in m.grads.values())) == pytest.approx(0.5, rel=1e-5)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(m, 0)
    with pytest.raises(TypeError, match="grads"):
        clip_grad_norm([object()], 1.0)


class _Params:
    """A trainable object: named parameters and their grads."""

    def __init__(self, params):
        self.params, self.grads = params, {}

    def named_parameters(self):
        return list(self.params.items())


@pytest.mark.parametrize("make,tmake", [
    (lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01)),
    (lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
], ids=["sgd", "sgd-momentum-decay", "adam", "adam-betas-decay"])
def test_optimisers_match_torch(rng, make, tmake):
    start = {"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(4)}
    ours = _Params({k: v.copy() for k, v in start.items()})
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in start.items()}
    opt, topt = make(ours), tmake(list(theirs.values()))
    for _ in range(6):
        grads = {k: rng.standard_normal(v.shape) for k, v in start.items()}
        ours.grads = grads
        for k, t in theirs.items():
            t.grad = torch.tensor(grads[k])
        opt.step()
        topt.step()
    for k in start:
        np.testing.assert_allclose(ours.params[k], theirs[k].detach().numpy(), rtol=1e-12, atol=1e-14)


def test_optimiser_updates_a_layer_in_place(rng):
    m = fastrnn.LSTM(3, 4, dtype="float64", seed=0)
    before = m.state_dict()
    y, _ = m(rng.standard_normal((5, 2, 3)))
    m.backward(np.ones_like(y))
    SGD([m], lr=0.5).step()
    for k, v in m.state_dict().items():
        np.testing.assert_allclose(v, before[k] - 0.5 * m.grads[k], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_tbptt_with_one_chunk_is_full_bptt(rng, mode):
    m = getattr(fastrnn, mode)(3, 4, num_layers=2, dtype="float64", seed=0)
    x, gy = rng.standard_normal((12, 2, 3)), rng.standard_normal((12, 2, 4))
    y_full, hx_full = m(x)
    m.backward(gy)
    full = {k: v.copy() for k, v in m.grads.items()}
    y, hx, grads = truncated_bptt(m, x, 12, gy)
    np.testing.assert_array_equal(y, y_full)
    for k in full:
        np.testing.assert_array_equal(grads[k], full[k])


@pytest.mark.parametrize("chunk", [1, 4, 5])
@pytest.mark.parametrize("mode,tcls", [("LSTM", torch.nn.LSTM), ("GRU", torch.nn.GRU)])
def test_tbptt_matches_torch_with_detached_state(rng, mode, tcls, chunk):
    torch.manual_seed(0)
    tm = tcls(3, 4, num_layers=2).double()
    m = getattr(fastrnn, mode)(3, 4, num_layers=2, dtype="float64")
    m.load_state_dict(tm.state_dict())
    x, gy = rng.standard_normal((12, 2, 3)), rng.standard_normal((12, 2, 4))
    y, _, grads = truncated_bptt(m, x, chunk, gy)
    hx, ys = None, []
    for t0 in range(0, 12, chunk):               # torch's idiom: detach the state between chunks
        yt, hx = tm(torch.tensor(x[t0:t0 + chunk]), hx)
        yt.backward(torch.tensor(gy[t0:t0 + chunk]))
        hx = tuple(h.detach() for h in hx) if mode == "LSTM" else hx.detach()
        ys.append(yt.detach().numpy())
    np.testing.assert_allclose(y, np.concatenate(ys), rtol=1e-10, atol=1e-12)
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_tbptt_calls_back_per_chunk_and_checks_arguments(rng):
    m = fastrnn.RNN(3, 4, dtype="float64", seed=0)
    seen = []
    truncated_bptt(m, rng.standard_normal((10, 2, 3)), 4, lambda y, t0: np.ones_like(y),
                   on_chunk=lambda layer, t0: seen.append(t0))
    assert seen == [0, 4, 8]
    with pytest.raises(ValueError, match="chunk"):
        truncated_bptt(m, np.zeros((10, 2, 3)), 0, np.zeros((10, 2, 4)))


def test_linear_and_softmax_cross_entropy_match_torch(rng):
    from fastrnn.training import Linear, softmax_cross_entropy
    lin = Linear(5, 3, dtype="float64", seed=0)
    tl = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        tl.weight.copy_(torch.tensor(lin.params["weight"]))
        tl.bias.copy_(torch.tensor(lin.params["bias"]))
    x = rng.standard_normal((4, 2, 5))
    target = rng.integers(0, 3, 8)
    xt = torch.tensor(x, requires_grad=True)
    loss_t = torch.nn.functional.cross_entropy(tl(xt).reshape(8, 3), torch.tensor(target))
    loss_t.backward()
    loss, grad_logits = softmax_cross_entropy(lin(x).reshape(8, 3), target)
    grad_x = lin.backward(grad_logits.reshape(4, 2, 3))
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lin.grads["weight"], tl.weight.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(lin.grads["bias"], tl.bias.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cell", ["GRU", "LSTM"])
def test_seq2seq_gradients_match_finite_differences(rng, cell):
    from fastrnn.training import Seq2Seq
    model = Seq2Seq(vocab=6, hidden=3, bos=4, eos=5, cell=cell, embed=2, dtype="float64", seed=0)
    src = rng.integers(0, 4, (3, 4))
    src_len = np.array([4, 2, 3])
    tgt = rng.integers(0, 6, (3, 5))
    tgt_len = np.array([5, 3, 4])

    def loss():   # teacher forcing 1: every input is given, so the loss is smooth in the weights
        return model.loss_and_grads(src, src_len, tgt, tgt_len, teacher_forcing=1.0)

    loss()
    grads = {k: v.copy() for k, v in model.grads.items()}
    assert set(grads) == {name for name, _ in model.named_parameters()}
    for name, p in model.named_parameters():
        for flat in rng.choice(p.size, size=min(3, p.size), replace=False):
            i = np.unravel_index(flat, p.shape)
            keep = p[i]
            p[i] = keep + 1e-6
            up = loss()
            p[i] = keep - 1e-6
            down = loss()
            p[i] = keep
            assert grads[name][i] == pytest.approx((up - down) / 2e-6, rel=1e-5, abs=1e-8), (name, i)


def test_seq2seq_greedy_stops_at_the_end_token_or_max_len():
    from fastrnn.training import Seq2Seq
    model = Seq2Seq(vocab=6, hidden=4, bos=4, eos=5, seed=0)
    model.head.params["bias"][:] = -10
    model.head.params["bias"][5] = 10                 # EOS first: every output is empty
    assert all(len(o) == 0 for o in model.greedy(np.zeros((3, 2), int), np.array([2, 1, 2]), max_len=7))
    model.head.params["bias"][5] = -10
    model.head.params["bias"][2] = 10                 # never EOS: max_len tokens of 2
    out = model.greedy(np.zeros((3, 2), int), np.array([2, 1, 2]), max_len=7)
    assert all(len(o) == 7 and (o == 2).all() for o in out)
