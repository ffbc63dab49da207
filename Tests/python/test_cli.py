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
    # Like llama-bench -d, the depth applies to prompt tests too (a new turn after a long chat).
    assert rows == {(t, n) for t in ("pp8@d20", "pp16@d20", "tg4@d20") for n in (1, 2)}
    for r in result["results"]:
        assert r["mean_tps"] > 0 and len(r["samples"]) == 2
        assert ("mean_ttft_ms" in r) == r["test"].startswith("pp")
    prompt = [r for r in result["results"] if r["test"] == "pp16@d20"][0]
    assert prompt["depth"] == 20
    for tps, ttft in zip(prompt["samples"], prompt["ttft_ms_samples"]):  # one elapsed time, two views
        assert abs(ttft - 16 / tps * 1000) <= 1e-6 * ttft


def test_bench_takes_a_depth_list_with_a_floor_per_row(tmp_path, make_model):
    model = make_model(tmp_path / "m.gguf", seed=8)
    result = json.loads(run("bench", "-m", str(model), "-p", "0", "-n", "4", "-t", "1", "-r", "1",
                            "--depth", "0,8,24", "--json"))
    rows = {r["test"]: r for r in result["results"]}
    assert set(rows) == {"tg4", "tg4@d8", "tg4@d24"}
    assert [rows[t]["depth"] for t in ("tg4", "tg4@d8", "tg4@d24")] == [0, 8, 24]
    # The floor counts the weights plus the KV read before the average token (depth + 2).
    weights = result["bytes_per_token"]
    per_position = (rows["tg4@d8"]["bytes_per_token"] - weights) // 10
    assert per_position > 0
    for name, r in rows.items():
        assert r["bytes_per_token"] == weights + per_position * (r["depth"] + 2)
        assert r["floor_tps"] == pytest.approx(result["read_gbps"] * 1e9 / r["bytes_per_token"])


def test_bench_batched_rows_take_the_depth_list(tmp_path, make_model):
    """--sequences S runs S contexts in one batch; with --depth D each first reads a D-token prompt
    (llama-batched-bench's -npp), and the row is named tgN×S@dD."""
    model = make_model(tmp_path / "m.gguf", seed=10)
    result = json.loads(run("bench", "-m", str(model), "-p", "0", "-n", "4", "-t", "2", "-r", "1",
                            "--depth", "0,24", "--sequences", "1,3", "--json"))
    rows = {r["test"]: r for r in result["results"]}
    assert set(rows) == {"tg4", "tg4@d24", "tg4×1", "tg4×3", "tg4×1@d24", "tg4×3@d24"}
    for name in ("tg4×1", "tg4×3", "tg4×1@d24", "tg4×3@d24"):
        r = rows[name]
        assert r["sequences"] == int(name.split("×")[1].split("@")[0])
        assert r["mean_tps"] > 0 and r["per_stream_tps"] > 0
        assert 1 <= r["mean_batch_size"] <= r["sequences"]
        # The prompt before decoding: 16 tokens at depth 0, else the depth.
        assert r["depth"] == (24 if name.endswith("@d24") else 16)
    assert rows["tg4×3"]["mean_tps"] == pytest.approx(3 * rows["tg4×3"]["per_stream_tps"])


def test_depth_interleaved_tool_times_every_depth(tmp_path, make_model):
    """tools/bench/depth_interleaved.py (BENCHMARKS.md's ratio at depth) keeps working: a row per
    depth, each a share of the first depth's speed."""
    import os
    import sys

    from conftest import library_path

    model = make_model(tmp_path / "m.gguf", seed=9)
    env = dict(os.environ, BITNET_LIBRARY=library_path())
    out = subprocess.run([sys.executable, str(REPO / "tools" / "bench" / "depth_interleaved.py"), str(model),
                          "-d", "0,8,24", "-n", "4", "--rounds", "6", "-t", "1"],
                         check=True, capture_output=True, text=True, env=env).stdout
    rows = [line.split("|")[1:-1] for line in out.splitlines() if line.startswith("| ") and "depth" not in line]
    assert [int(r[0]) for r in rows] == [0, 8, 24]
    assert rows[0][3].strip() == "1.000"
    assert all(float(r[1]) > 0 and float(r[3]) > 0 for r in rows)


def test_inspect_lists_tensors():
    out = run("inspect", str(REPO / "Tests" / "Fixtures" / "golden" / "m1-b158-relu2-i2_s.gguf"))
    assert "bitnet-b1.58" in out and "blk.1.ffn_down.weight" in out and "I2_S" in out


# --- Flags, input, interrupts, warnings and progress (issue #16, #21) ----------------------------

import os
import pty
import re
import select
import signal
import time

KJV = REPO / "models" / "bitnet-kjv-tiny.gguf"  # n_ctx_train 256, no chat template
GOLDEN_MODEL = REPO / "Tests" / "Fixtures" / "golden" / "m1-b158-relu2-i2_s.gguf"
VERSE = "And God said, Let there be light: and there was light. "


def bitnet(*args, stdin: bytes | None = None, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI with captured (so not a terminal) stdout/stderr, as bytes-tolerant text."""
    if not BITNET.exists():
        pytest.skip("build/bin/bitnet not built; run `make`")
    return subprocess.run([str(BITNET), *args], input=stdin if stdin is not None else b"",
                          capture_output=True, timeout=timeout, env={**os.environ, **(env or {})})


def text(stream: bytes) -> str:
    return stream.decode("utf-8", "replace")


def under_pty(*args, env: dict | None = None, timeout: float = 120) -> tuple[int, str]:
    """The CLI with stdout and stderr on a pseudo-terminal: (exit status, everything it wrote)."""
    if not BITNET.exists():
        pytest.skip("build/bin/bitnet not built; run `make`")
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(BITNET), *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            close_fds=True, env={**os.environ, **(env or {})})
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if not ready:
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=10)
    os.close(master)
    return proc.returncode, text(b"".join(chunks))


def token_count(path, model=KJV) -> int:
    """Prompt tokens as `run` counts them (BOS + text), from `tokenize`."""
    return len(bitnet("tokenize", "-m", str(model), "--bos", "--ids-only", "-f", str(path)).stdout.split())


def test_model_flag_in_every_subcommand(tmp_path):
    missing = tmp_path / "no-such-model.gguf"
    corpus = tmp_path / "c.txt"
    corpus.write_text(VERSE * 4)
    commands = {
        "run": ["-p", "x", "-n", "1"],
        "chat": [],
        "inspect": [],
        "tokenize": ["x"],
        "bench": ["-p", "4", "-n", "1", "-r", "1", "--no-probe"],
        "perplexity": ["-f", str(corpus), "-c", "16"],
    }
    for command, rest in commands.items():
        for flag in ("-m", "--model"):
            result = bitnet(command, flag, str(missing), *rest)
            assert result.returncode == 1, (command, flag, text(result.stderr))
            assert f"'{missing}': No such file or directory" in text(result.stderr), (command, flag)
    # Each subcommand really uses the model -m names.
    assert f"file:        {GOLDEN_MODEL}" in text(bitnet("inspect", "-m", str(GOLDEN_MODEL)).stdout)
    bench = json.loads(bitnet("bench", "-m", str(GOLDEN_MODEL), "-p", "4", "-n", "1", "-r", "1", "--no-probe",
                              "--json").stdout)
    assert bench["model"] == str(GOLDEN_MODEL)
    kjv_ids = bitnet("tokenize", "-m", str(KJV), "--ids-only", "In the beginning").stdout
    golden_ids = bitnet("tokenize", "--model", str(GOLDEN_MODEL), "--ids-only", "In the beginning").stdout
    assert kjv_ids != golden_ids


def test_inspect_takes_the_model_either_way():
    by_flag = bitnet("inspect", "-m", str(GOLDEN_MODEL))
    positional = bitnet("inspect", str(GOLDEN_MODEL))
    assert by_flag.returncode == positional.returncode == 0
    without_timing = lambda out: [l for l in text(out).splitlines() if not l.startswith("load:")]
    assert without_timing(by_flag.stdout) == without_timing(positional.stdout)
    both = bitnet("inspect", "-m", str(GOLDEN_MODEL), str(KJV))
    assert both.returncode == 64 and "name the model once" in text(both.stderr)


def test_prompt_from_file_and_stdin_match_the_argument(tmp_path):
    prompt = "In the beginning God created"
    path = tmp_path / "prompt.txt"
    path.write_text(prompt)
    greedy = ["-m", str(KJV), "-n", "12", "--temp", "0"]
    by_argument = bitnet("run", *greedy, "-p", prompt)
    by_file = bitnet("run", *greedy, "-f", str(path))
    by_stdin = bitnet("run", *greedy, "-p", "-", stdin=prompt.encode())
    by_stdin_file = bitnet("run", *greedy, "-f", "-", stdin=prompt.encode())
    assert by_argument.returncode == 0 and by_argument.stdout.strip()
    assert by_file.stdout == by_stdin.stdout == by_stdin_file.stdout == by_argument.stdout
    neither = bitnet("run", *greedy)
    assert neither.returncode == 64 and "-p TEXT, -p - (standard input) or -f FILE" in text(neither.stderr)


def test_prompt_larger_than_200kb_is_read_whole_and_gets_a_hint(tmp_path):
    big = VERSE * 4000
    assert len(big.encode()) > 200_000
    path = tmp_path / "big.txt"
    path.write_text(big)
    tokens = token_count(path)
    assert tokens > 40_000
    for args, stdin in ((["-f", str(path)], None), (["-p", "-"], big.encode())):
        result = bitnet("run", "-m", str(KJV), "-n", "16", *args, stdin=stdin)
        err = text(result.stderr)
        assert result.returncode == 1, err
        # The count proves every byte arrived; the hint names the flag and the size it needs.
        assert f"the prompt has {tokens} tokens and the context holds 256" in err
        assert f"raise --ctx (to at least {tokens + 16} for the prompt plus -n 16)" in err
        assert "the model was trained on 256 tokens" in err


def test_prompt_that_does_not_fit_names_the_flag(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text(VERSE * 30)
    tokens = token_count(path)
    assert 256 < tokens < 512
    result = bitnet("run", "-m", str(KJV), "-f", str(path), "-n", "8")
    assert result.returncode == 1
    assert f"the prompt has {tokens} tokens and the context holds 256: raise --ctx (to at least {tokens + 8}" \
        in text(result.stderr)
    # With the suggested --ctx it runs (and warns that this is past the training context).
    fits = bitnet("run", "-m", str(KJV), "-f", str(path), "-n", "8", "--ctx", str(tokens + 8))
    assert fits.returncode == 0, text(fits.stderr)


def test_ctx_beyond_training_context_warns(tmp_path):
    warning = "warning: --ctx 512 is more than the model's training context (256 tokens)"
    assert warning in text(bitnet("run", "-m", str(KJV), "-p", "In", "-n", "2", "--ctx", "512").stderr)
    assert "warning" not in text(bitnet("run", "-m", str(KJV), "-p", "In", "-n", "2", "--ctx", "256").stderr)
    assert "warning" not in text(bitnet("run", "-m", str(KJV), "-p", "In", "-n", "2").stderr)
    corpus = tmp_path / "c.txt"
    corpus.write_text(VERSE * 20)
    scored = bitnet("perplexity", "-m", str(KJV), "-f", str(corpus), "-c", "512")
    assert scored.returncode == 0 and warning in text(scored.stderr)


def start_run(*args):
    if not BITNET.exists():
        pytest.skip("build/bin/bitnet not built; run `make`")
    return subprocess.Popen([str(BITNET), "run", "-m", str(KJV), *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigint_during_generation_exits_130_and_says_how_far():
    proc = start_run("-p", "In the beginning", "-n", "100000", "--ctx", "20000", "--ignore-eos", "-t", "1")
    first = proc.stdout.read(64)  # generation is under way: the handler is installed
    assert first
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, text(err)
    match = re.search(r"\[interrupted after (\d+) tokens\]", text(err))
    assert match and 0 < int(match.group(1)) < 100000, text(err)
    assert len(first + out) > 64


def test_sigint_while_reading_a_long_prompt(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text(VERSE * 600)
    tokens = token_count(path)
    proc = start_run("-f", str(path), "-n", "8", "--ctx", str(tokens + 8), "-t", "1")
    # The --ctx warning comes after loading, just before the prompt is evaluated (~1.5 s here).
    assert b"warning: --ctx" in proc.stderr.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, text(err)
    match = re.search(r"\[interrupted while reading the prompt, after (\d+) of (\d+) tokens\]", text(err))
    assert match and int(match.group(2)) == tokens and int(match.group(1)) < tokens, text(err)


def test_sigint_during_perplexity_reports_the_value_so_far(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text(VERSE * 3000)
    proc = subprocess.Popen([str(BITNET), "perplexity", "-m", str(KJV), "-f", str(corpus), "-c", "512", "-t", "1"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert b"warning: --ctx" in proc.stderr.readline()  # loaded; ~80 windows to go
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, text(err)
    assert out == b""
    match = re.search(r"\[interrupted after (\d+) of (\d+) windows, (\d+) tokens scored, perplexity so far [0-9.]+\]",
                      text(err))
    assert match and 0 < int(match.group(1)) < int(match.group(2)), text(err)


def test_progress_lines_only_on_a_terminal(tmp_path):
    prompt = tmp_path / "p.txt"
    prompt.write_text(VERSE * 600)
    tokens = token_count(prompt)
    long_prompt = ["run", "-m", str(KJV), "-f", str(prompt), "-n", "2", "--ctx", str(tokens + 2), "-t", "1"]
    corpus = ["perplexity", "-m", str(KJV), "-f", str(prompt), "-c", "256"]

    status, screen = under_pty(*long_prompt)  # ~1.7 s of prompt at one thread, past the 0.5 s delay
    assert status == 0
    assert re.search(rf"\rprompt \[[# ]{{24}}\] \d+% \d+/{tokens} tokens", screen), screen[:500]
    assert "loading" not in screen  # a 3 MB model loads well within 0.5 s
    status, screen = under_pty(*corpus)
    assert status == 0 and re.search(r"\rperplexity \[#+ *\] 100% window 33/33", screen), screen[-500:]
    assert "\x1b[K" in screen and "perplexity: " in screen
    # The load bar, shown at once with the delay set to 0 (the slow case is the next test).
    status, screen = under_pty("run", "-m", str(KJV), "-p", "In", "-n", "1", env={"BITNET_PROGRESS_DELAY_MS": "0"})
    assert status == 0 and "\rloading bitnet-kjv-tiny.gguf [########################] 100%" in screen

    # Not a terminal: no bar, no carriage returns, whatever the delay.
    for args in (long_prompt, corpus, ["run", "-m", str(KJV), "-p", "In", "-n", "1"]):
        result = bitnet(*args, env={"BITNET_PROGRESS_DELAY_MS": "0"})
        assert result.returncode == 0
        assert "\r" not in text(result.stderr) and "[#" not in text(result.stderr) and "%" not in text(result.stderr)


def test_progress_bar_on_a_slow_model_load(tmp_path, make_model):
    # A 2048 x 65536 F16 head requantized to Q8_0 onto huge pages, the 276 MB file read without mmap.
    model = make_model(tmp_path / "wide.gguf", n_embd=2048, n_layer=1, n_head=16, n_head_kv=4, n_ff=2048,
                       n_vocab=65536)
    run = ["run", "-m", str(model), "-p", "hi", "-n", "1", "--ctx", "64", "--no-mmap", "--lm-head", "q8_0"]
    bar = r"\rloading wide\.gguf \[[# ]{24}\] \d{1,2}% "  # drawn during the load, before 100%
    try:
        status, screen = under_pty(*run)
        assert status == 0
        if not re.search(bar, screen):
            # No bar: fine only if this load beat the 500 ms delay. Wall time around the process cannot
            # tell (start-up and the token add to it), so the load's own time comes from a second run
            # with the delay at 0, whose final draw prints the seconds the load took.
            status, timed = under_pty(*run, env={"BITNET_PROGRESS_DELAY_MS": "0"})
            assert status == 0
            seconds = re.search(r"\rloading wide\.gguf \[#{24}\] 100% ([0-9.]+) s", timed)
            assert seconds, timed[-300:]
            if float(seconds.group(1)) < 1.0:
                pytest.skip(f"the load took {seconds.group(1)} s here, too quick to need a progress bar")
            pytest.fail(f"a {seconds.group(1)} s load drew no bar: {screen[:300]!r}")
    finally:
        model.unlink()
    assert "\r\x1b[K" in screen  # erased before the output


INVALID = b"In the \xff beginning"  # the first bad byte is at offset 7


def test_invalid_utf8_is_rejected_the_same_way_everywhere(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(INVALID)
    rule = "is not valid UTF-8 (byte offset 7)"
    failing = {
        "run -f": bitnet("run", "-m", str(KJV), "-f", str(path)),
        "run -p -": bitnet("run", "-m", str(KJV), "-p", "-", stdin=INVALID),
        "run -p": bitnet(b"run", b"-m", str(KJV).encode(), b"-p", INVALID),
        "tokenize -f": bitnet("tokenize", "-m", str(KJV), "-f", str(path)),
        "tokenize -f -": bitnet("tokenize", "-m", str(KJV), "-f", "-", stdin=INVALID),
        "tokenize": bitnet(b"tokenize", b"-m", str(KJV).encode(), INVALID),
        "perplexity": bitnet("perplexity", "-m", str(KJV), "-f", str(path)),
        "chat --system-file": bitnet("chat", "-m", str(KJV), "--system-file", str(path)),
    }
    for name, result in failing.items():
        err = text(result.stderr)
        assert result.returncode == 1, (name, err)
        assert rule in err and "BITNET_E_INVALID_ARGUMENT" in err, (name, err)
        assert result.stdout == b"", name
    assert f"'{path}' {rule}" in text(failing["run -f"].stderr)
    assert f"standard input {rule}" in text(failing["run -p -"].stderr)
    assert f"command-line argument 5 {rule}" in text(failing["run -p"].stderr)
    # chat is interactive: the line is rejected with the same words and skipped, the session goes on.
    chat = bitnet("chat", "-m", str(KJV), "-n", "4", "--temp", "0", stdin=INVALID + b"\nIn the beginning\n")
    assert chat.returncode == 0
    assert f"input line 1 {rule}" in text(chat.stderr)
    assert text(chat.stdout).count("> ") == 3 and len(text(chat.stdout)) > len("> > > ")
    # Valid UTF-8 beyond ASCII passes everywhere.
    assert bitnet("tokenize", "-m", str(KJV), "-f", "-", stdin="Ève — ünïcode".encode()).returncode == 0


def test_perplexity_refuses_binary_input(tmp_path):
    binary = tmp_path / "weights.bin"
    binary.write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(range(256)))
    result = bitnet("perplexity", "-m", str(KJV), "-f", str(binary))
    assert result.returncode == 1
    assert f"'{binary}' looks like a binary file (NUL byte at offset 5)" in text(result.stderr)
    assert "perplexity scores UTF-8 text" in text(result.stderr)
    invalid = tmp_path / "latin1.txt"
    invalid.write_bytes("caf\u00e9 au lait".encode("latin-1"))
    result = bitnet("perplexity", "-m", str(KJV), "-f", str(invalid))
    assert result.returncode == 1 and "is not valid UTF-8 (byte offset 3)" in text(result.stderr)


def test_file_errors_say_why(tmp_path):
    missing = tmp_path / "missing.txt"
    for args in (["run", "-f", str(missing)], ["perplexity", "-f", str(missing)],
                 ["tokenize", "-f", str(missing)], ["chat", "--system-file", str(missing)],
                 ["tokenize", "--bench", str(missing)]):
        result = bitnet(*args[:1], "-m", str(KJV), *args[1:])
        assert result.returncode == 1
        assert f"cannot open '{missing}': No such file or directory" in text(result.stderr), args
    directory = bitnet("run", "-m", str(KJV), "-f", str(tmp_path))
    assert directory.returncode == 1 and "Is a directory" in text(directory.stderr)
    if os.geteuid() != 0:  # root reads anything
        locked = tmp_path / "locked.txt"
        locked.write_text("x")
        locked.chmod(0)
        assert "Permission denied" in text(bitnet("run", "-m", str(KJV), "-f", str(locked)).stderr)


def test_verbose_uses_the_flags_words():
    result = bitnet("run", "-m", str(KJV), "-p", "In the beginning", "-n", "5", "--ignore-eos", "--seed", "3",
                    "--verbose")
    err = text(result.stderr)
    assert result.returncode == 0
    assert "stopped: max tokens (-n)" in err and "max tokens: 5" in err and "seed 3" in err
    assert "temperature" in err and "top-k" in err and "repeat penalty" in err
    # The model's path is left out: a temporary folder's random name ("tmp.dTlKOfksmx") is not a field name.
    camel = re.compile(r"\b[a-z]+[A-Z][A-Za-z]*\b")
    assert camel.findall(err.replace(str(KJV), "")) == [], err  # no maxTokens, promptTokens, stopReason...
    chat = bitnet("chat", "-m", str(KJV), "-n", "3", "--ignore-eos", "--verbose", stdin=b"In the\n")
    assert "stopped: max tokens (-n)" in text(chat.stderr)
    assert camel.findall(text(chat.stderr).replace(str(KJV), "")) == []


@pytest.mark.parametrize("model", [KJV, GOLDEN_MODEL], ids=["kjv-tiny", "golden"])
def test_chat_without_template_is_text_completion(model):
    result = bitnet("chat", "-m", str(model), "-n", "8", "--temp", "0", stdin=b"In the beginning\n")
    err = text(result.stderr)
    assert result.returncode == 0
    assert "has no chat template, so it is a text-completion model" in err
    assert "continued as text, not answered" in err
    # The line is continued as plain text: the same as `run` on that line.
    continued = bitnet("run", "-m", str(model), "-n", "8", "--temp", "0", "-p", "In the beginning").stdout
    assert text(result.stdout) == "> " + text(continued) + "> "
    for name in ("bitnet", "llama3", "chatml"):
        forced = bitnet("chat", "-m", str(model), "-n", "4", "--template", name, stdin=b"hi\n")
        assert forced.returncode == 0 and "text-completion" not in text(forced.stderr), name
    unknown = bitnet("chat", "-m", str(model), "-n", "4", "--template", "vicuna", stdin=b"hi\n")
    assert unknown.returncode != 0 and "use bitnet, llama3 or chatml" in text(unknown.stderr)
