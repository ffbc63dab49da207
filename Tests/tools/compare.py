#!/usr/bin/env python3
"""Compare two raw float32 logits files [n_tokens][n_vocab] (A = engine, B = reference).

    compare.py ENGINE.f32 REF.paper.f32 --n-vocab 512 --max-abs 0.5 --mean-abs 0.07 \
        --min-cos 0.999 --tie-eps 0.25 --min-argmax 62

Prints max|d|, mean|d|, the lowest per-position cosine similarity, argmax agreement and
exact_prefix (leading positions whose max|d| <= 1e-3). An A argmax agrees when B's logit
at that index is within tie_eps of B's maximum (tie_eps 0: exact argmax agreement).
Exit status: 0 all given thresholds hold, 1 a threshold fails, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

EXACT_PREFIX_TOLERANCE = 1e-3


def load_logits(path: str, n_vocab: int) -> np.ndarray:
    data = np.fromfile(path, dtype="<f4")
    if n_vocab <= 0 or data.size == 0 or data.size % n_vocab:
        raise ValueError(f"{path}: {data.size} floats is not a positive multiple of n_vocab {n_vocab}")
    return data.reshape(-1, n_vocab).astype(np.float64)


def compare(a: np.ndarray, b: np.ndarray, n_vocab: int, tie_eps: float = 0.0) -> dict:
    """Metrics between logits a (engine) and b (reference); both reshaped to [-1][n_vocab]."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, n_vocab)
    b = np.asarray(b, dtype=np.float64).reshape(-1, n_vocab)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("logits contain NaN or infinity")
    d = np.abs(a - b)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cos = np.where(norms > 0, np.sum(a * b, axis=1) / np.where(norms > 0, norms, 1.0), 1.0)
    rows = np.arange(a.shape[0])
    a_arg = np.argmax(a, axis=1)
    agree = b[rows, a_arg] >= b.max(axis=1) - tie_eps
    close = d.max(axis=1) <= EXACT_PREFIX_TOLERANCE
    prefix = int(np.argmin(close)) if not close.all() else int(close.size)
    return {
        "n_pos": int(a.shape[0]),
        "max_abs": float(d.max()),
        "mean_abs": float(d.mean()),
        "min_cos": float(cos.min()),
        "argmax_agree": int(agree.sum()),
        "exact_prefix": prefix,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="compare two float32 logits files")
    p.add_argument("a", help="engine logits")
    p.add_argument("b", help="reference logits")
    p.add_argument("--n-vocab", type=int, required=True)
    p.add_argument("--max-abs", type=float, help="fail if max|d| is larger")
    p.add_argument("--mean-abs", type=float, help="fail if mean|d| is larger")
    p.add_argument("--min-cos", type=float, help="fail if any position's cosine is lower")
    p.add_argument("--tie-eps", type=float, default=0.0, help="argmax tie tolerance (default 0)")
    p.add_argument("--min-argmax", type=int, help="fail if fewer positions agree")
    args = p.parse_args(argv)
    try:
        r = compare(load_logits(args.a, args.n_vocab), load_logits(args.b, args.n_vocab), args.n_vocab, args.tie_eps)
    except (ValueError, OSError) as err:
        print(f"compare.py: {err}", file=sys.stderr)
        return 2
    print(f"positions     {r['n_pos']}")
    print(f"max_abs       {r['max_abs']:.6g}")
    print(f"mean_abs      {r['mean_abs']:.6g}")
    print(f"min_cos       {r['min_cos']:.8f}")
    print(f"argmax_agree  {r['argmax_agree']}/{r['n_pos']} (tie_eps {args.tie_eps:g})")
    print(f"exact_prefix  {r['exact_prefix']}")
    failures = []
    if args.max_abs is not None and r["max_abs"] > args.max_abs:
        failures.append(f"max_abs {r['max_abs']:.6g} > {args.max_abs:g}")
    if args.mean_abs is not None and r["mean_abs"] > args.mean_abs:
        failures.append(f"mean_abs {r['mean_abs']:.6g} > {args.mean_abs:g}")
    if args.min_cos is not None and r["min_cos"] < args.min_cos:
        failures.append(f"min_cos {r['min_cos']:.8f} < {args.min_cos:g}")
    if args.min_argmax is not None and r["argmax_agree"] < args.min_argmax:
        failures.append(f"argmax_agree {r['argmax_agree']} < {args.min_argmax}")
    for f in failures:
        print(f"FAIL {f}")
    print("FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
