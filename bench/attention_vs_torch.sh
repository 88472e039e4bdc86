#!/bin/sh
# attention forward and forward+backward at the character GPT's shapes, dagrad
# (build/bench/bench_attention) beside PyTorch (Debian's python3-torch, 1.13:
# no scaled_dot_product_attention yet, so written as the torch_char_gpt
# anchor writes it, q kᵀ / sqrt(d), masked_fill, softmax, @ v) at 1 thread,
# the best of several rounds each.
#   bench/attention_vs_torch.sh [BUILD_DIR]
set -e
build=${1:-build}
"$build/bench/bench_attention"
/usr/bin/python3 - <<'PY'
import math
import time
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
B, T, H, C = 12, 64, 4, 128
for causal in (True, False):
    qkv = torch.randn(B * T, 3 * C, requires_grad=True)
    dy = torch.randn(B * T, C)
    mask = torch.tril(torch.ones(T, T)).view(1, 1, T, T)

    def forward():
        q, k, v = qkv.split(C, dim=1)
        q, k, v = (x.view(B, T, H, C // H).transpose(1, 2) for x in (q, k, v))
        a = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        if causal:
            a = a.masked_fill(mask == 0, float("-inf"))
        return (F.softmax(a, dim=-1) @ v).transpose(1, 2).contiguous().view(B * T, C)

    def best(step, rounds=7, repeats=50):
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for _ in range(repeats):
                step()
            times.append((time.perf_counter() - start) / repeats)
        return min(times)

    def both():
        qkv.grad = None
        forward().backward(dy)

    with torch.no_grad():
        f = best(forward)
    fb = best(both)
    print(f"torch attention {B * T}x{3 * C}, {H} heads, context {T}{', causal' if causal else ''}, threads 1: "
          f"forward {f * 1e3:.3f} ms, forward+backward {fb * 1e3:.3f} ms")
PY
