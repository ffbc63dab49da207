"""Generation through the C API on generated models: greedy = argmax, pause/resume, seeds,
interrupt latency during a long prompt, pull streams with backpressure, argument checks."""
from __future__ import annotations

import ctypes
import threading
import time

import numpy as np
import pytest

import capi
from capi import GenerationParams, GenerationResult

PROMPT = b"The quick brown fox jumps over the lazy dog"


class Session:
    """A model and one context with the generation API declared."""

    def __init__(self, lib, path, n_ctx=512, logits_all=False):
        self.lib = capi.declare_generation(lib)
        self.engine = capi.Engine(lib, path, n_ctx=n_ctx, logits_all=logits_all)
        self.ctx = self.engine.ctx
        self.model = self.engine.model

    def params(self, **fields) -> GenerationParams:
        p = GenerationParams()
        self.lib.bitnet_generation_params_init(ctypes.byref(p))
        for key, value in fields.items():
            setattr(p, key, value)
        return p

    def tokenize(self, text: bytes, add_bos=True) -> list[int]:
        cap = len(text) + 8
        out = (ctypes.c_int32 * cap)()
        n = ctypes.c_size_t()
        assert self.lib.bitnet_tokenize(self.model, text, len(text), int(add_bos), 0, out, cap, ctypes.byref(n)) == 0
        return list(out[: n.value])

    def generate(self, prompt, params, on_chunk=None, resume=False):
        """Runs generate (or resume); returns (status, chunks, tokens, result)."""
        chunks: list[bytes] = []
        tokens: list[int] = []

        def callback(text, length, info, _user):
            chunks.append(ctypes.string_at(text, length))
            tokens.extend(info.contents.tokens[i] for i in range(info.contents.n_tokens))
            return on_chunk(len(chunks)) if on_chunk else capi.CONTINUE

        fn = capi.STREAM_FN(callback)
        result = GenerationResult()
        if resume:
            status = self.lib.bitnet_generate_resume(self.ctx, fn, None, ctypes.byref(result))
        else:
            status = self.lib.bitnet_generate(self.ctx, prompt, ctypes.byref(params) if params else None, fn, None,
                                              ctypes.byref(result))
        return status, chunks, tokens, result

    def close(self):
        self.engine.close()


@pytest.fixture(scope="module")
def small_model(tmp_path_factory, make_model):
    return make_model(tmp_path_factory.mktemp("gen") / "small.gguf", seed=11)


@pytest.fixture(scope="module")
def big_model(tmp_path_factory, make_model):
    return make_model(tmp_path_factory.mktemp("gen") / "big.gguf", n_embd=1024, n_layer=8, n_head=8, n_head_kv=4,
                      n_ff=2048, seed=3)


@pytest.fixture
def session(lib, small_model):
    s = Session(lib, small_model)
    yield s
    s.close()


def test_params_layout_and_presets(session):
    p = session.params()
    assert p.size == ctypes.sizeof(GenerationParams)
    assert (round(p.temperature, 4), p.top_k, round(p.top_p, 4)) == (0.7, 50, 0.9)
    assert p.max_new_tokens == 256 and p.add_bos == 1 and p.seed == 2**64 - 1
    assert session.lib.bitnet_generation_params_preset(ctypes.byref(p), capi.PRESET_QUALITY) == 0
    assert (round(p.temperature, 4), p.top_k, round(p.top_p, 4), round(p.repetition_penalty, 4)) == (0.8, 100, 0.95, 1.1)
    assert session.lib.bitnet_generation_params_preset(ctypes.byref(p), capi.PRESET_FAST) == 0
    assert p.temperature == 0
    assert session.lib.bitnet_generation_params_preset(ctypes.byref(p), 9) == capi.E_INVALID_ARGUMENT


def test_greedy_equals_argmax_of_eval_logits(lib, small_model, session):
    p = session.params(temperature=0.0, max_new_tokens=30, ignore_eos=1)
    status, chunks, tokens, result = session.generate(PROMPT, p)
    assert status == capi.OK and result.stop_reason == capi.STOP_MAX_TOKENS and len(tokens) == 30
    with capi.Engine(lib, small_model, logits_all=False) as ref:
        vocab = 512
        logits = ref.eval(session.tokenize(PROMPT), vocab)[-1]
        for token in tokens:
            assert token == int(np.argmax(logits))
            logits = ref.eval([token], vocab)[-1]


def test_pause_every_chunk_then_resume_matches(session):
    p = session.params(temperature=1.1, seed=2024, max_new_tokens=40, ignore_eos=1)
    status, whole, _, _ = session.generate(PROMPT, p)
    assert status == capi.OK
    status, pieces, _, result = session.generate(PROMPT, p, on_chunk=lambda n: capi.PAUSE)
    pauses = 0
    while status == capi.PAUSED:
        pauses += 1
        assert result.stop_reason == capi.STOP_NONE
        status, more, _, result = session.generate(None, None, on_chunk=lambda n: capi.PAUSE, resume=True)
        pieces += more
    assert status == capi.OK and pauses == len(pieces)
    assert b"".join(pieces) == b"".join(whole)


def test_cancel_then_new_generation_works(session):
    p = session.params(temperature=0.0, max_new_tokens=20, ignore_eos=1)
    _, reference, _, _ = session.generate(PROMPT, p)
    status, chunks, _, result = session.generate(PROMPT, p, on_chunk=lambda n: capi.CANCEL if n == 4 else 0)
    assert status == capi.E_CANCELLED and result.stop_reason == capi.STOP_CANCELLED and len(chunks) == 4
    status, again, _, _ = session.generate(PROMPT, p)
    assert status == capi.OK and again == reference


def test_seeded_sampling_is_reproducible(session):
    p = session.params(temperature=1.3, seed=5, max_new_tokens=40, ignore_eos=1)
    a = session.generate(PROMPT, p)[2]
    b = session.generate(PROMPT, p)[2]
    p.seed = 6
    c = session.generate(PROMPT, p)[2]
    assert a == b and a != c


def test_busy_inside_callback(session):
    lib = session.lib
    seen = []

    def on_chunk(n):
        if n == 1:
            seen.append(lib.bitnet_generate(session.ctx, b"x", None, capi.STREAM_FN(0), None, None))
            seen.append(lib.bitnet_generate_resume(session.ctx, capi.STREAM_FN(0), None, None))
        return capi.CONTINUE

    status, *_ = session.generate(PROMPT, session.params(max_new_tokens=3, ignore_eos=1), on_chunk=on_chunk)
    assert status == capi.OK and seen == [capi.E_BUSY, capi.E_BUSY]


def test_stop_sequence_split_across_tokens(session):
    p = session.params(temperature=0.0, max_new_tokens=60, ignore_eos=1)
    _, chunks, _, _ = session.generate(PROMPT, p)
    text = b"".join(chunks)
    # A stop made of the end of one chunk and the start of the next, both ASCII.
    ends = np.cumsum([len(c) for c in chunks])
    stop = next((text[e - 1:e + 1] for e in ends[2:-1] if text[e - 1:e + 1].isascii() and b"\0" not in text[e - 1:e + 1]
                 and len(text[e - 1:e + 1]) == 2), None)
    if stop is None:
        pytest.skip("no ASCII boundary in this model's output")
    stops = (ctypes.c_char_p * 1)(stop)
    p.stop_sequences = stops
    p.n_stop_sequences = 1
    status, cut, _, result = session.generate(PROMPT, p)
    assert status == capi.OK and result.stop_reason == capi.STOP_SEQUENCE and result.stop_index == 0
    assert b"".join(cut) == text[: text.index(stop)]


def test_interrupt_during_long_prompt(lib, big_model):
    s = Session(lib, big_model, n_ctx=2048)
    try:
        words = b" ".join(b"w%d" % (i % 97) for i in range(380))
        prompt_tokens = len(s.tokenize(words))
        assert prompt_tokens >= 1000
        p = s.params(temperature=0.0, max_new_tokens=1)
        start = time.perf_counter()
        status, *_ = s.generate(words, p)
        full_prompt = time.perf_counter() - start
        assert status == capi.OK

        # A different prompt (nothing reusable) interrupted from another thread mid-way.
        other = b" ".join(b"v%d" % (i % 89) for i in range(380))
        assert 1000 <= len(s.tokenize(other)) < 2048
        outcome = {}

        def worker():
            outcome["status"], _, _, outcome["result"] = s.generate(other, p)
            outcome["returned"] = time.perf_counter()

        thread = threading.Thread(target=worker)
        thread.start()
        time.sleep(min(0.3, full_prompt / 3))
        interrupted_at = time.perf_counter()
        assert s.lib.bitnet_context_interrupt(s.ctx) == 0
        thread.join(timeout=10)
        assert not thread.is_alive()
        latency_ms = (outcome["returned"] - interrupted_at) * 1000
        print(f"\n  {prompt_tokens}-token prompt takes {full_prompt * 1000:.0f} ms; "
              f"interrupt returned after {latency_ms:.1f} ms")
        assert outcome["status"] == capi.E_CANCELLED
        assert outcome["result"].stop_reason == capi.STOP_CANCELLED
        assert latency_ms < max(100.0, full_prompt * 1000 / 8)  # within about one layer's work
        # The context stays usable: the same generation now completes.
        status, *_ = s.generate(other, p)
        assert status == capi.OK
    finally:
        s.close()


def test_progress_callback_sees_prompt_and_can_cancel(session):
    calls = []

    def progress(done, total, _user):
        calls.append((done, total))
        return 1 if len(calls) == 2 else 0

    fn = capi.PROGRESS_FN(progress)
    p = session.params(max_new_tokens=3, progress=fn)
    status, chunks, _, _ = session.generate(b"progress prompt " * 20, p)
    assert status == capi.E_CANCELLED and chunks == []
    assert calls[0][0] == 0 and calls[0][1] > 0 and calls[1][0] > 0


def test_stream_backpressure_and_prompt_cancel(session):
    lib = session.lib
    # Ban non-ASCII tokens so that each token is exactly one chunk.
    bans = []
    piece = ctypes.create_string_buffer(64)
    n = ctypes.c_size_t()
    lib.bitnet_token_to_piece.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p, ctypes.c_size_t,
                                          ctypes.POINTER(ctypes.c_size_t)]
    for t in range(512):
        ok = lib.bitnet_token_to_piece(session.model, t, piece, 64, ctypes.byref(n)) == 0 and n.value > 0
        if not ok or not all(0x20 <= b < 0x7F for b in piece.raw[: n.value]):
            bans.append(capi.LogitBias(t, float("-inf")))
    bias = (capi.LogitBias * len(bans))(*bans)
    p = session.params(temperature=0.0, max_new_tokens=30, ignore_eos=1, logit_bias=bias, n_logit_bias=len(bans))
    _, push, _, _ = session.generate(PROMPT, p)

    stream = ctypes.c_void_p()
    assert lib.bitnet_stream_start(session.ctx, PROMPT, ctypes.byref(p), 1, ctypes.byref(stream)) == 0
    assert lib.bitnet_generate(session.ctx, PROMPT, None, capi.STREAM_FN(0), None, None) == capi.E_BUSY
    buf = ctypes.create_string_buffer(256)
    length = ctypes.c_size_t()
    pulled = []
    while True:
        time.sleep(0.004)
        status = lib.bitnet_stream_next(stream, buf, 256, ctypes.byref(length), -1)
        if status != 0:
            break
        pulled.append(buf.raw[: length.value])
    assert status == capi.DONE
    result = GenerationResult()
    assert lib.bitnet_stream_result(stream, ctypes.byref(result)) == 0
    assert 1 <= result.max_tokens_ahead <= 2 and result.n_generated == 30
    assert pulled == push
    lib.bitnet_stream_free(stream)

    # Cancel + free while the producer waits on a full queue.
    p.max_new_tokens = 0
    assert lib.bitnet_stream_start(session.ctx, PROMPT, ctypes.byref(p), 1, ctypes.byref(stream)) == 0
    assert lib.bitnet_stream_next(stream, buf, 256, ctypes.byref(length), -1) == 0
    time.sleep(0.1)
    start = time.perf_counter()
    assert lib.bitnet_stream_cancel(stream) == 0
    assert lib.bitnet_stream_next(stream, buf, 256, ctypes.byref(length), -1) == capi.E_CANCELLED
    lib.bitnet_stream_free(stream)
    assert time.perf_counter() - start < 0.5
    assert lib.bitnet_generate(session.ctx, PROMPT, ctypes.byref(p), capi.STREAM_FN(0), None, None) in (0,)


def test_null_and_invalid_arguments(session):
    lib = session.lib
    nofn = capi.STREAM_FN(0)
    assert lib.bitnet_generate(None, b"x", None, nofn, None, None) == capi.E_INVALID_ARGUMENT
    assert lib.bitnet_generate(session.ctx, b"\xff\xfe", None, nofn, None, None) == capi.E_INVALID_ARGUMENT
    assert lib.bitnet_generate_resume(None, nofn, None, None) == capi.E_INVALID_ARGUMENT
    assert lib.bitnet_generate_resume(session.ctx, nofn, None, None) == capi.E_INVALID_ARGUMENT
    bad = session.params(top_p=2.0)
    assert lib.bitnet_generate(session.ctx, b"x", ctypes.byref(bad), nofn, None, None) == capi.E_INVALID_ARGUMENT
    assert b"top_p" in lib.bitnet_last_error()
    stream = ctypes.c_void_p()
    assert lib.bitnet_stream_start(None, b"x", None, 1, ctypes.byref(stream)) == capi.E_INVALID_ARGUMENT
    assert lib.bitnet_stream_start(session.ctx, b"x", None, 0, ctypes.byref(stream)) == capi.E_INVALID_ARGUMENT
    assert lib.bitnet_stream_next(None, None, 0, None, 0) == capi.E_INVALID_ARGUMENT
    assert lib.bitnet_stream_cancel(None) == capi.E_INVALID_ARGUMENT
    assert lib.bitnet_stream_result(None, None) == capi.E_INVALID_ARGUMENT
    lib.bitnet_stream_free(None)


@pytest.mark.parametrize("policy", ["stop", "shift"])
def test_generation_past_a_full_context(lib, small_model, policy):
    """With n_ctx 48, 'stop' ends at a full context; 'shift' keeps n_keep tokens, drops the
    oldest half of the rest and generates 3 x n_ctx tokens with finite logits."""
    n_ctx = 48
    extra = {"overflow_policy": capi.OVERFLOW_SHIFT if policy == "shift" else capi.OVERFLOW_STOP, "n_keep": 4}
    gen_lib = capi.declare_generation(lib)
    with capi.Engine(lib, small_model, n_ctx=n_ctx, logits_all=False, **extra) as engine:
        s = Session.__new__(Session)
        s.lib, s.engine, s.ctx, s.model = gen_lib, engine, engine.ctx, engine.model
        status, chunks, tokens, result = s.generate(PROMPT, s.params(max_new_tokens=3 * n_ctx, temperature=0.0,
                                                                      ignore_eos=1))
        assert status == 0
        if policy == "stop":
            assert result.stop_reason == capi.STOP_CONTEXT_FULL
            assert gen_lib.bitnet_context_n_past(engine.ctx) == n_ctx
        else:
            assert result.stop_reason == capi.STOP_MAX_TOKENS and result.n_generated == 3 * n_ctx
            assert gen_lib.bitnet_context_n_past(engine.ctx) <= n_ctx
            logits = engine.lib.bitnet_context_logits_ith(engine.ctx, -1)
            assert logits and np.all(np.isfinite(np.ctypeslib.as_array(logits, shape=(512,))))


def test_generate_reuses_a_warmed_prefix(session):
    """bitnet_cache_warm stores a prefix; a generate on an empty context whose prompt
    starts with it reuses its KV (n_prompt_tokens_reused) and produces the cold text."""
    prefix = b"System: you are a careful assistant who answers briefly. "
    prompt = prefix + b"User: what is a ternary weight?"
    cold_status, cold_chunks, _, cold = session.generate(prompt, session.params(max_new_tokens=12, temperature=0.0))
    assert cold_status == 0 and cold.n_prompt_tokens_reused == 0
    assert session.lib.bitnet_context_reset(session.ctx) == 0
    assert session.lib.bitnet_cache_warm(session.ctx, prefix) == 0
    assert session.lib.bitnet_context_reset(session.ctx) == 0
    status, chunks, _, warm = session.generate(prompt, session.params(max_new_tokens=12, temperature=0.0))
    assert status == 0
    assert warm.n_prompt_tokens_reused == len(session.tokenize(prefix))
    assert b"".join(chunks) == b"".join(cold_chunks)
