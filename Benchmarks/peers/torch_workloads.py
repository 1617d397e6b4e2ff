#!/usr/bin/env python3
"""PyTorch CPU peer for DRLRec's neural-network benchmarks (`drlrec bench nn`).

Runs, in eager mode and fp32, the workloads defined in PERFORMANCE.md ("The peer: PyTorch ..."):

  mlp_train_step             MLP 256->512(ReLU)->512(ReLU)->1682 logits, batch 1024, softmax
                             cross-entropy with integer targets, Adam lr 1e-3: one full train step
                             (zero_grad, forward, loss, backward, optimizer.step).
  transformer_block_fwd_bwd  pre-LN transformer block on x=[256,30,64], 2 heads of 32, causal,
                             fused qkv Linear(64,192), out Linear(64,64), FFN 64->256->64 with
                             tanh-GELU; loss = mean(out^2); forward + backward, no optimizer.
  gru_fwd_bwd                torch.nn.GRU(64, 64, batch_first=True) over x=[256,30,64],
                             loss = mean(out^2); forward + backward, no optimizer.
  lstm_fwd_bwd               the same with torch.nn.LSTM(64, 64, batch_first=True) (not in
                             PERFORMANCE.md: DRLRec's other recurrent layer).

Gradients are cleared with set_to_none=True before every step (the PyTorch default). For (c) and (d)
the input x requires grad, so backward also computes d loss / d x, as DRLRec's `layer.backward(_:)`
does (--no-input-grad turns that off). For (b) it does not: DRLRec's `backwardFromLoss` skips the first
layer's input gradient too. The transformer's attention is written out by hand (matmul, masked_fill
with -inf above the diagonal, softmax, matmul): on this CPU it is as fast as
F.scaled_dot_product_attention(is_causal=True) at one thread and slightly faster at two
(--attention sdpa selects the fused kernel).

Usage:
  python3 Benchmarks/peers/torch_workloads.py [--threads 1,2] [--samples 15] [--warmup 5]
                                              [--json] [--only mlp_train_step,...]

With --json, one JSON object per line on stdout:
  {"name": ..., "threads": 1, "value": <median ms per step>, "unit": "ms",
   "samples_per_s": <batch / seconds per step>, "impl": "torch", "torch": "<version>"}
If torch is not importable, the script says how to install it on stderr and exits 0 (printing
{"name": "peer", "skipped": true, "reason": ...} with --json).
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

INSTALL_HINT = (
    "PyTorch is not installed; install the CPU build with "
    "`pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl` "
    "or `pip install torch==2.13.0+cpu` (PIP_FIND_LINKS=/opt/wheels)"
)

WORKLOAD_NAMES = ["mlp_train_step", "transformer_block_fwd_bwd", "gru_fwd_bwd", "lstm_fwd_bwd"]
TARGET_SAMPLE_SECONDS = 0.2
SEED = 1234


def parse_args(argv):
    p = argparse.ArgumentParser(description="PyTorch CPU peer workloads for DRLRec benchmarks")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--samples", type=int, default=15, help="timed samples per workload (default 15)")
    p.add_argument("--warmup", type=int, default=5, help="warm-up iterations (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    p.add_argument("--only", default="", help="comma-separated workload names (default: all)")
    p.add_argument("--attention", choices=["manual", "sdpa"], default="manual",
                   help="attention in transformer_block_fwd_bwd: explicit matmul + masked_fill(-inf) + "
                        "softmax + matmul (default: same computation as DRLRec, and not slower here) "
                        "or F.scaled_dot_product_attention(is_causal=True)")
    p.add_argument("--no-input-grad", dest="input_grad", action="store_false",
                   help="for transformer_block_fwd_bwd, gru_fwd_bwd and lstm_fwd_bwd, do not compute the gradient "
                        "with respect to the input x (default: compute it, as DRLRec does)")
    a = p.parse_args(argv)
    try:
        a.threads = [int(t) for t in a.threads.split(",") if t.strip()]
    except ValueError:
        p.error("--threads must be a comma-separated list of integers")
    if not a.threads or any(t < 1 for t in a.threads):
        p.error("--threads must list positive integers")
    if a.samples < 1 or a.warmup < 0:
        p.error("--samples must be >= 1 and --warmup >= 0")
    a.only = [n.strip() for n in a.only.split(",") if n.strip()] or list(WORKLOAD_NAMES)
    unknown = [n for n in a.only if n not in WORKLOAD_NAMES]
    if unknown:
        p.error("unknown workload(s) %s; known: %s" % (", ".join(unknown), ", ".join(WORKLOAD_NAMES)))
    return a


# --------------------------------------------------------------------------------------------
# Workloads. Each builder returns (step, batch, n_params); step() runs one full iteration and
# returns the loss tensor (not synchronised to a Python float, so the timed loop stays cheap).
# --------------------------------------------------------------------------------------------

def build_mlp_train_step(torch, args):
    nn = torch.nn
    torch.manual_seed(SEED)
    batch = 1024
    model = nn.Sequential(
        nn.Linear(256, 512), nn.ReLU(),
        nn.Linear(512, 512), nn.ReLU(),
        nn.Linear(512, 1682),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 256)
    y = torch.randint(0, 1682, (batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step, batch, sum(p.numel() for p in model.parameters())


def build_transformer_block_fwd_bwd(torch, args):
    nn = torch.nn
    F = torch.nn.functional
    batch, seq, d, heads = 256, 30, 64, 2
    head_dim = d // heads

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(d)
            self.qkv = nn.Linear(d, 3 * d)
            self.out = nn.Linear(d, d)
            self.ln2 = nn.LayerNorm(d)
            self.fc1 = nn.Linear(d, 4 * d)
            self.fc2 = nn.Linear(4 * d, d)
            # Causal mask for the manual path: True above the diagonal (future positions).
            self.register_buffer("future", torch.ones(seq, seq, dtype=torch.bool).triu(1))
            self.scale = 1.0 / math.sqrt(head_dim)

        def attention(self, h):
            b, t, _ = h.shape
            qkv = self.qkv(h).view(b, t, 3, heads, head_dim).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]                   # each [b, heads, t, head_dim]
            if args.attention == "sdpa":
                a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                s = (q @ k.transpose(-2, -1)) * self.scale     # [b, heads, t, t]
                s = s.masked_fill(self.future, float("-inf"))
                a = torch.softmax(s, dim=-1) @ v
            return self.out(a.transpose(1, 2).reshape(b, t, d))

        def forward(self, x):
            x = x + self.attention(self.ln1(x))
            x = x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))
            return x

    torch.manual_seed(SEED)
    model = Block()
    x = torch.randn(batch, seq, d, requires_grad=args.input_grad)

    def step():
        model.zero_grad(set_to_none=True)
        x.grad = None
        loss = model(x).pow(2).mean()
        loss.backward()
        return loss

    return step, batch, sum(p.numel() for p in model.parameters())


def recurrent_builder(module):
    """Builder of (d): torch.nn.<module>(64, 64, batch_first=True) over x=[256,30,64], loss = mean(out^2)."""
    def build(torch, args):
        torch.manual_seed(SEED)
        batch, seq, d = 256, 30, 64
        rnn = getattr(torch.nn, module)(d, d, batch_first=True)
        x = torch.randn(batch, seq, d, requires_grad=args.input_grad)

        def step():
            rnn.zero_grad(set_to_none=True)
            x.grad = None
            out, _ = rnn(x)
            loss = out.pow(2).mean()
            loss.backward()
            return loss

        return step, batch, sum(p.numel() for p in rnn.parameters())
    return build


BUILDERS = {
    "mlp_train_step": build_mlp_train_step,
    "transformer_block_fwd_bwd": build_transformer_block_fwd_bwd,
    "gru_fwd_bwd": recurrent_builder("GRU"),
    "lstm_fwd_bwd": recurrent_builder("LSTM"),
}


# --------------------------------------------------------------------------------------------

def measure(step, warmup, samples):
    """Warm up, pick iterations per sample (~0.2 s, at least 1), return (per-step seconds, iters, loss)."""
    loss = None
    for _ in range(warmup):
        loss = step()
    t0 = time.perf_counter()
    loss = step()
    one = time.perf_counter() - t0
    iters = max(1, int(round(TARGET_SAMPLE_SECONDS / one))) if one > 0 else 1
    per_step = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(iters):
            loss = step()
        per_step.append((time.perf_counter() - t0) / iters)
    return per_step, iters, float(loss.detach())


def print_environment(torch, args):
    caps = torch.backends.cpu.get_cpu_capability()
    lines = [
        "torch %s | MKL %s | oneDNN(mkldnn) %s | CPU capability %s | interop threads %d | cores %s"
        % (torch.__version__, torch.backends.mkl.is_available(), torch.backends.mkldnn.is_available(),
           caps, torch.get_num_interop_threads(), os.cpu_count()),
        "transformer attention: %s | grads cleared with set_to_none=True | input grad for (c),(d): %s"
        % ("F.scaled_dot_product_attention(is_causal=True)" if args.attention == "sdpa"
           else "manual matmul + masked_fill(-inf) + softmax", "yes" if args.input_grad else "no"),
    ]
    env = ["%s=%s" % (k, os.environ[k]) for k in
           ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
            "OPENBLAS_NUM_THREADS") if k in os.environ]
    if env:
        lines.append("environment: " + " ".join(env) +
                     " (OPENBLAS_* do not affect torch, which uses MKL/oneDNN)")
    for line in lines:
        print("[torch peer] " + line, file=sys.stderr)
    sys.stderr.flush()


def main(argv):
    args = parse_args(argv)
    try:
        import torch
    except Exception as e:  # ImportError, or a broken install raising something else
        reason = "torch not importable (%s: %s)" % (type(e).__name__, e)
        print("[torch peer] skipped: %s. %s" % (reason, INSTALL_HINT), file=sys.stderr)
        if args.json:
            print(json.dumps({"name": "peer", "skipped": True, "reason": reason + ". " + INSTALL_HINT}))
        return 0

    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # already set / parallel work already started: harmless for these workloads
    print_environment(torch, args)

    rows = []
    bad_loss = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for name in args.only:
            step, batch, n_params = BUILDERS[name](torch, args)
            per_step, iters, loss = measure(step, args.warmup, args.samples)
            med = statistics.median(per_step)
            if not math.isfinite(loss):
                bad_loss.append((name, threads, loss))
            row = {
                "name": name,
                "threads": threads,
                "value": round(med * 1e3, 3),
                "unit": "ms",
                "samples_per_s": round(batch / med, 1),
                "impl": "torch",
                "torch": torch.__version__,
            }
            if args.json:
                print(json.dumps(row))
                sys.stdout.flush()
            else:
                rows.append((row, min(per_step), max(per_step), iters, n_params, loss))
            del step

    if not args.json:
        hdr = "%-26s %7s %10s %10s %10s %12s %6s %9s %10s" % (
            "workload", "threads", "median ms", "min ms", "max ms", "samples/s", "iters", "params", "last loss")
        print(hdr)
        print("-" * len(hdr))
        for row, lo, hi, iters, n_params, loss in rows:
            print("%-26s %7d %10.3f %10.3f %10.3f %12.1f %6d %9d %10.5g" % (
                row["name"], row["threads"], row["value"], lo * 1e3, hi * 1e3,
                row["samples_per_s"], iters, n_params, loss))
        print("(median of %d samples per row; each sample ~%.1f s or 1 iteration; %d warm-up iterations)"
              % (args.samples, TARGET_SAMPLE_SECONDS, args.warmup))

    for name, threads, loss in bad_loss:
        print("[torch peer] ERROR: %s at %d thread(s) produced a non-finite loss (%r)"
              % (name, threads, loss), file=sys.stderr)
    return 1 if bad_loss else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
