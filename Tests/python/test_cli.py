"""The `bitnet` command-line tool against the NumPy reference."""
from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pytest

import reference
from conftest import REPO

BITNET = REPO / "build" / "bin" / "bitnet"

TEXT = ("In the beginning the engine read the weights, and the weights were ternary. "
        "Every token was a small step; every layer a short walk through a plain, quiet field. ") * 3


def run(*args: str) -> str:
    if not BITNET.exists():
        pytest.skip("build/bin/bitnet not built; run `make`")
    return subprocess.run([str(BITNET), *args], check=True, capture_output=True, text=True).stdout


def test_version_and_build_info():
    assert "kernels:" in run("--version")


def test_perplexity_matches_reference(tmp_path, make_model):
    model = make_model(tmp_path / "m.gguf", seed=5)
    text = tmp_path / "t.txt"
    text.write_text(TEXT)
    ids = [int(t) for t in run("tokenize", "-m", str(model), "--ids-only", "--bos", "--file", str(text)).split()]
    ctx = 64
    nll, scored = 0.0, 0
    for start in range(0, len(ids) - 1, ctx):
        window = ids[start:start + ctx]
        if len(window) < 2:
            continue
        logits = reference.forward(str(model), window, "paper")
        for i in range(len(window) - 1):
            row = logits[i]
            m = row.max()
            nll -= row[window[i + 1]] - m - math.log(np.exp(row - m).sum())
            scored += 1
    expected = math.exp(nll / scored)
    out = run("perplexity", "-m", str(model), "-f", str(text), "-c", str(ctx), "--kv", "f32", "-t", "2")
    ours = float(out.split("perplexity:")[1].split()[0])
    assert f"over {scored} tokens" in out
    assert abs(ours - expected) / expected < 0.01, (ours, expected)


def test_bench_json(tmp_path, make_model):
    model = make_model(tmp_path / "m.gguf", seed=6)
    result = json.loads(run("bench", "-m", str(model), "-p", "16", "-n", "4", "-r", "2", "--json"))
    tests = {r["test"]: r for r in result["results"]}
    assert set(tests) == {"pp16", "tg4"}
    assert all(r["mean_tps"] > 0 and len(r["samples"]) == 2 for r in tests.values())


def test_bench_lists_depth_and_time_to_first_token(tmp_path, make_model):
    model = make_model(tmp_path / "m.gguf", seed=7)
    result = json.loads(run("bench", "-m", str(model), "-p", "8,16", "-n", "4", "-t", "1,2", "-r", "2",
                            "--depth", "20", "--no-probe", "--json"))
    rows = {(r["test"], r["threads"]) for r in result["results"]}
    assert rows == {(t, n) for t in ("pp8", "pp16", "tg4@d20") for n in (1, 2)}
    for r in result["results"]:
        assert r["mean_tps"] > 0 and len(r["samples"]) == 2
        assert ("mean_ttft_ms" in r) == r["test"].startswith("pp")
    prompt = [r for r in result["results"] if r["test"] == "pp16"][0]
    for tps, ttft in zip(prompt["samples"], prompt["ttft_ms_samples"]):  # one elapsed time, two views
        assert abs(ttft - 16 / tps * 1000) <= 1e-6 * ttft


def test_inspect_lists_tensors():
    out = run("inspect", str(REPO / "Tests" / "Fixtures" / "golden" / "m1-b158-relu2-i2_s.gguf"))
    assert "bitnet-b1.58" in out and "blk.1.ffn_down.weight" in out and "I2_S" in out
