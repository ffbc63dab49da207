#!/usr/bin/env python3
"""Plots run/train_log.csv (training loss per step, smoothed, and held-out loss) to loss.png.

    python3 tools/train/plot_loss.py --log tools/train/run/train_log.csv --out tools/train/loss.png
"""

from __future__ import annotations

import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--log", default="tools/train/run/train_log.csv")
    p.add_argument("--out", default="tools/train/loss.png")
    args = p.parse_args()
    steps, train, held_steps, held = [], [], [], []
    with open(args.log, newline="") as f:
        for row in csv.DictReader(f):
            steps.append(int(row["step"]))
            train.append(float(row["train_loss"]))
            if row["held_out_loss"]:
                held_steps.append(int(row["step"]))
                held.append(float(row["held_out_loss"]))
    smooth, s = [], None
    for v in train:
        s = v if s is None else 0.95 * s + 0.05 * v
        smooth.append(s)
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    ax.plot(steps, train, color="#9ecae1", linewidth=0.6, label="train (per step)")
    ax.plot(steps, smooth, color="#08519c", linewidth=1.5, label="train (EMA 0.95)")
    ax.plot(held_steps, held, "o-", color="#d94801", label="held-out")
    ax.set_xlabel("step (16 x 256 tokens)")
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.set_title("bitnet-kjv-tiny: BitNet b1.58 QAT on the KJV Bible")
    ax.set_ylim(bottom=max(0.0, min(smooth + held) - 0.3), top=min(8.5, max(train) + 0.2))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
