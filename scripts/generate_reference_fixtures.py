#!/usr/bin/env python3
"""Reference outputs and gradients from PyTorch for DRLNN's composite layers.

Writes one safetensors file per case into Tests/DRLNNTests/Fixtures/reference/, holding the
input `x`, the output gradient `dy`, the module's parameters under DRLNN's names, and PyTorch's
`y`, `dx` and `grad.<name>`, computed by autograd through PyTorch's own modules (nn.LayerNorm,
nn.MultiheadAttention, nn.GRU, nn.LSTM, nn.Conv1d, F.cross_entropy). ReferenceTests loads them, runs DRLNN's forward
and backward and compares to 1e-4 relative. CI needs no Python: the fixtures are committed.

  pip install torch safetensors      # (the CPU wheel: pip install torch==2.13.0+cpu)
  python3 scripts/generate_reference_fixtures.py
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parent.parent / "Tests/DRLNNTests/Fixtures/reference"
torch.manual_seed(1234)


def save(name, tensors, metadata=None):
    OUT.mkdir(parents=True, exist_ok=True)
    clean = {k: v.detach().contiguous().to(torch.float32) for k, v in tensors.items()}
    save_file(clean, str(OUT / f"{name}.safetensors"), metadata=metadata or {})


def run(module_fn, x, named_params):
    """y = f(x); loss = Σ dy·y; returns y, dy, dx and parameter gradients."""
    x = x.clone().requires_grad_(True)
    y = module_fn(x)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    out = {"x": x, "dy": dy, "y": y, "dx": x.grad}
    for name, p in named_params.items():
        out[name] = p
        out["grad." + name] = p.grad
    return out


def layer_norm():
    ln = torch.nn.LayerNorm(16)
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5)
        ln.bias.uniform_(-0.5, 0.5)
    x = torch.randn(3, 5, 16) * 2 + 0.5
    save("layer_norm", run(ln, x, {"weight": ln.weight, "bias": ln.bias}))


def attention(causal, padding):
    d, heads, b, t = 16, 4, 3, 6
    mha = torch.nn.MultiheadAttention(d, heads, batch_first=True)
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1) if causal else None
    pad = None
    if padding:
        pad = torch.zeros(b, t, dtype=torch.bool)
        pad[0, -2:] = True
        pad[2, :1] = True

    def f(x):
        return mha(x, x, x, attn_mask=mask, key_padding_mask=pad, need_weights=False)[0]

    params = {"qkv.weight": mha.in_proj_weight, "qkv.bias": mha.in_proj_bias,
              "out.weight": mha.out_proj.weight, "out.bias": mha.out_proj.bias}
    tensors = run(f, torch.randn(b, t, d), params)
    if pad is not None:
        tensors["key_padding_mask"] = pad.to(torch.float32)
    save(f"attention{'_causal' if causal else ''}{'_padding' if padding else ''}", tensors)


def transformer_block():
    d, heads, hidden, b, t = 16, 2, 32, 2, 5
    ln1, ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
    with torch.no_grad():
        for ln in (ln1, ln2):
            ln.weight.uniform_(0.5, 1.5)
            ln.bias.uniform_(-0.3, 0.3)
    mha = torch.nn.MultiheadAttention(d, heads, batch_first=True)
    fc1, fc2 = torch.nn.Linear(d, hidden), torch.nn.Linear(hidden, d)
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)

    def f(x):
        h = ln1(x)
        x = x + mha(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + fc2(F.gelu(fc1(ln2(x)), approximate="tanh"))

    params = {"ln1.weight": ln1.weight, "ln1.bias": ln1.bias,
              "attention.qkv.weight": mha.in_proj_weight, "attention.qkv.bias": mha.in_proj_bias,
              "attention.out.weight": mha.out_proj.weight, "attention.out.bias": mha.out_proj.bias,
              "ln2.weight": ln2.weight, "ln2.bias": ln2.bias,
              "ffn.0.weight": fc1.weight, "ffn.0.bias": fc1.bias, "ffn.2.weight": fc2.weight, "ffn.2.bias": fc2.bias}
    save("transformer_block", run(f, torch.randn(b, t, d), params))


def gru():
    g = torch.nn.GRU(5, 7, batch_first=True)
    params = {n: p for n, p in g.named_parameters()}
    save("gru", run(lambda x: g(x)[0], torch.randn(3, 6, 5), params))


def lstm():
    m = torch.nn.LSTM(5, 6, batch_first=True)
    params = {n: p for n, p in m.named_parameters()}
    save("lstm", run(lambda x: m(x)[0], torch.randn(3, 7, 5), params))


def conv1d(name, kernel, dilation, causal):
    conv = torch.nn.Conv1d(4, 6, kernel, dilation=dilation)
    pad = (kernel - 1) * dilation if causal else 0

    def f(x):  # DRLNN's layout is [batch, time, channels]
        return conv(F.pad(x.transpose(1, 2), (pad, 0))).transpose(1, 2)

    save(name, run(f, torch.randn(2, 9, 4), {"weight": conv.weight, "bias": conv.bias}))


def softmax_cross_entropy():
    logits = torch.randn(6, 9) * 3
    targets = torch.tensor([0, 8, 3, 3, 1, 5])
    weights = torch.tensor([1.0, 0.5, 2.0, 1.0, 0.0, 1.5])
    z = logits.clone().requires_grad_(True)
    loss = (F.cross_entropy(z, targets, reduction="none") * weights).mean()
    loss.backward()
    save("softmax_cross_entropy", {"logits": logits, "targets": targets.to(torch.float32), "weights": weights,
                                   "loss": loss.detach().reshape(1), "grad": z.grad})


if __name__ == "__main__":
    layer_norm()
    for causal in (False, True):
        attention(causal, padding=False)
    attention(False, padding=True)
    transformer_block()
    gru()
    lstm()
    conv1d("conv1d_causal_dilated", kernel=3, dilation=2, causal=True)
    conv1d("conv1d_valid", kernel=4, dilation=1, causal=False)
    softmax_cross_entropy()
    print("wrote", sorted(p.name for p in OUT.glob("*.safetensors")))
