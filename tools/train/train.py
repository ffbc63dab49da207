#!/usr/bin/env python3
"""Quantization-aware training of the tiny bitnet-b1.58 model on the KJV training split.

    python3 tools/train/train.py --data tools/train/data --out tools/train/run \
        --steps 1000 --batch 16 --lr 2e-3 --seed 1234 --threads 1

Writes run/train_log.csv (step, lr, train loss, held-out loss), run/ckpt.pt every
--ckpt-every steps and at the end (model state, config, step). One thread by default:
the machine is shared. AdamW, linear warmup then cosine decay to 10% of the peak rate,
weight decay on the BitLinear weights only (as in the BitNet b1.58 recipe).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from data import WindowSampler, encode_file, eval_chunks, line_starts, load_tokenizer
from model import BitLinear, BitNetModel, ModelConfig


def lr_at(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


@torch.no_grad()
def held_out_loss(model: BitNetModel, chunks, batch: int) -> float:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(chunks), batch):
        part = chunks[i : i + batch]
        x = torch.tensor([c[0] for c in part])
        y = torch.tensor([c[1] for c in part])
        logits = model(x)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train()
    return total / count


def save(model: BitNetModel, step: int, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"config": model.cfg.to_dict(), "step": step, "model": model.state_dict()}, tmp)
    tmp.replace(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="tools/train/data")
    p.add_argument("--out", default="tools/train/run")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--ckpt-every", type=int, default=50)
    p.add_argument("--eval-chunks", type=int, default=32, help="held-out chunks used for the periodic loss")
    for field in ("n_embd", "n_layer", "n_head", "n_head_kv", "n_ff", "n_ctx"):
        p.add_argument("--" + field.replace("_", "-"), type=int, default=getattr(ModelConfig, field))
    p.add_argument("--rope-theta", type=float, default=ModelConfig.rope_theta)
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data, out = Path(args.data), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tok = load_tokenizer(data)
    bos = tok.token_to_id("<s>")
    cfg = ModelConfig(n_vocab=tok.get_vocab_size(), n_embd=args.n_embd, n_layer=args.n_layer, n_head=args.n_head,
                      n_head_kv=args.n_head_kv, n_ff=args.n_ff, n_ctx=args.n_ctx, rope_theta=args.rope_theta)
    train_ids = encode_file(tok, data / "train.txt")
    held_ids = encode_file(tok, data / "held_out.txt")
    sampler = WindowSampler(train_ids, line_starts(tok, train_ids, cfg.n_ctx), cfg.n_ctx, bos, args.seed)
    chunks = eval_chunks(held_ids, cfg.n_ctx, bos)[: args.eval_chunks]

    model = BitNetModel(cfg)
    decay = [p for m in model.modules() if isinstance(m, BitLinear) for p in m.parameters()]
    decay_ids = {id(p) for p in decay}
    rest = [p for p in model.parameters() if id(p) not in decay_ids]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"config {cfg.to_dict()} params {n_params} train tokens {len(train_ids)} held-out {len(held_ids)}", flush=True)
    print(f"args {vars(args)}", flush=True)

    log = open(out / "train_log.csv", "w")
    log.write("step,lr,train_loss,held_out_loss,elapsed_s\n")
    start = time.time()
    smooth = None
    for step in range(args.steps):
        lr = lr_at(step, args.steps, args.lr, args.warmup)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = sampler.batch(args.batch)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, cfg.n_vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        value = loss.item()
        smooth = value if smooth is None else 0.95 * smooth + 0.05 * value
        last = step + 1 == args.steps
        held = ""
        if (step + 1) % args.eval_every == 0 or last:
            held = f"{held_out_loss(model, chunks, args.batch):.4f}"
        elapsed = time.time() - start
        log.write(f"{step + 1},{lr:.6g},{value:.4f},{held},{elapsed:.1f}\n")
        log.flush()
        if (step + 1) % 10 == 0 or held:
            print(f"step {step + 1}/{args.steps} lr {lr:.2e} loss {value:.4f} (smoothed {smooth:.4f})"
                  f"{' held-out ' + held if held else ''} {elapsed:.0f}s {elapsed / (step + 1):.2f}s/step", flush=True)
        if (step + 1) % args.ckpt_every == 0 or last:
            save(model, step + 1, out / "ckpt.pt")
    print(f"done: {args.steps} steps in {time.time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
