"""Generation through the package: equal to the raw C API, streams, push callbacks with
pause/resume/cancel, exceptions, asyncio, chat, prefix cache, state, errors."""

from __future__ import annotations

import asyncio
import ctypes
import sys
import threading

import pytest

import bitnet
from conftest import REPO

PROMPT = "The quick brown fox jumps over the lazy dog"
GREEDY = dict(temperature=0, max_new_tokens=24, ignore_eos=True)


def c_api_greedy(library: str, model_path, prompt: str, max_new_tokens: int) -> bytes:
    """The reference: the same generation through raw ctypes (Tests/python/capi.py declarations)."""
    sys.path.insert(0, str(REPO / "Tests" / "python"))
    try:
        import capi
    finally:
        sys.path.pop(0)
    lib = capi.declare_generation(ctypes.CDLL(library))
    model, ctx = ctypes.c_void_p(), ctypes.c_void_p()
    assert lib.bitnet_model_load(str(model_path).encode(), None, ctypes.byref(model)) == 0
    params = capi.ContextParams()
    lib.bitnet_context_params_init(ctypes.byref(params))
    params.n_ctx, params.n_threads = 256, 1
    assert lib.bitnet_context_new(model, ctypes.byref(params), ctypes.byref(ctx)) == 0
    gen = capi.GenerationParams()
    lib.bitnet_generation_params_init(ctypes.byref(gen))
    gen.temperature, gen.max_new_tokens, gen.ignore_eos = 0.0, max_new_tokens, 1
    chunks: list[bytes] = []
    fn = capi.STREAM_FN(lambda text, n, info, user: chunks.append(ctypes.string_at(text, n)) or 0)
    result = capi.GenerationResult()
    status = lib.bitnet_generate(ctx, prompt.encode(), ctypes.byref(gen), fn, None, ctypes.byref(result))
    lib.bitnet_context_free(ctx)
    lib.bitnet_model_free(model)
    assert status == 0 and result.n_generated == max_new_tokens
    return b"".join(chunks)


def test_greedy_generate_equals_the_c_api(ctx, library, model_path):
    expected = c_api_greedy(library, model_path, PROMPT, GREEDY["max_new_tokens"]).decode()
    assert expected  # the generated model does produce text
    assert ctx.generate(PROMPT, **GREEDY) == expected
    assert ctx.last_result.stop_reason == bitnet.StopReason.MAX_TOKENS
    assert ctx.last_result.n_generated == GREEDY["max_new_tokens"]
    # The pull stream produces the same chunks.
    assert "".join(ctx.stream(PROMPT, **GREEDY)) == expected
    assert ctx.last_result.status == "done" and ctx.last_result.n_generated == GREEDY["max_new_tokens"]


def test_push_pause_and_resume_give_the_uninterrupted_text(ctx):
    expected = ctx.generate(PROMPT, **GREEDY)
    pieces: list[str] = []

    def pause_every_chunk(text: str, info: bitnet.ChunkInfo):
        pieces.append(text)
        assert info.n_generated >= 1 and len(info.tokens) == len(info.logprobs)
        return bitnet.Action.PAUSE

    result = ctx.run(PROMPT, pause_every_chunk, **GREEDY)
    pauses = 0
    while result.paused:
        pauses += 1
        result = ctx.resume(pause_every_chunk)
    assert pauses == len(pieces) > 1  # every chunk paused, and each resume went on from there
    assert result.status == "done" and "".join(pieces) == expected


def test_push_cancel_and_false_stop_the_generation(ctx):
    for answer in (bitnet.Action.CANCEL, False):
        seen: list[str] = []
        result = ctx.run(PROMPT, lambda text, _info: seen.append(text) or answer, **GREEDY)
        assert result.status == "cancelled" and result.stop_reason == bitnet.StopReason.CANCELLED
        assert len(seen) == 1
    assert ctx.generate(PROMPT, **GREEDY)  # the context is reusable


def test_callback_exception_cancels_and_is_reraised(ctx):
    class Boom(Exception):
        pass

    calls = 0

    def explode(text, info):
        nonlocal calls
        calls += 1
        raise Boom("from the callback")

    with pytest.raises(Boom, match="from the callback"):
        ctx.run(PROMPT, explode, **GREEDY)
    assert calls == 1
    assert ctx.last_result.status == "cancelled"
    assert len(ctx.generate(PROMPT, **GREEDY)) > 0


def test_stream_closed_early_cancels_and_frees_the_context(ctx):
    expected = ctx.generate(PROMPT, **GREEDY)
    stream = ctx.stream(PROMPT, capacity=1, **GREEDY)
    first = next(stream)
    assert expected.startswith(first)
    with pytest.raises(bitnet.BusyError):
        ctx.generate(PROMPT, **GREEDY)  # the stream holds the context
    stream.close()
    assert ctx.generate(PROMPT, **GREEDY) == expected  # free again
    never_started = ctx.stream(PROMPT, **GREEDY)
    assert ctx.generate(PROMPT, **GREEDY) == expected  # an unstarted generator holds nothing
    del never_started


def test_interrupt_from_another_thread_raises_cancelled(ctx):
    long = dict(temperature=0, max_new_tokens=0, ignore_eos=True)  # until the context is full
    started = threading.Event()

    def on_chunk(text, info):
        if not started.is_set():
            started.set()
            # Interrupt from another thread while the generation is certainly running.
            watchdog = threading.Thread(target=ctx.interrupt)
            watchdog.start()
            watchdog.join()

    with pytest.raises(bitnet.CancelledError):
        ctx.run(PROMPT, on_chunk, **long)
    with pytest.raises(bitnet.CancelledError):
        for i, _ in enumerate(ctx.stream(PROMPT, **long)):
            if i == 0:
                ctx.interrupt()


def test_stop_sequences_and_sampling_keywords(ctx):
    text = ctx.generate(PROMPT, **GREEDY)
    stop = text[4:7]
    assert stop and ctx.generate(PROMPT, stop=[stop], **GREEDY) == text[: text.index(stop)]
    assert ctx.last_result.stop_reason == bitnet.StopReason.SEQUENCE
    sampled = dict(temperature=0.9, top_k=40, top_p=0.95, seed=7, max_new_tokens=16, ignore_eos=True,
                   repetition_penalty=1.1, logit_bias={1: -1.0}, preset="quality")
    assert ctx.generate(PROMPT, **sampled) == ctx.generate(PROMPT, **sampled)
    with pytest.raises(TypeError, match="max_tokens"):
        ctx.generate(PROMPT, max_tokens=3)
    with pytest.raises(TypeError, match="progress"):
        ctx.stream(PROMPT, progress=lambda done, total: None)
    calls: list[tuple[int, int]] = []
    ctx.generate(PROMPT, progress=lambda done, total: calls.append((done, total)), **GREEDY)
    assert calls and calls[-1][0] == calls[-1][1]


def test_astream_does_not_block_the_event_loop(ctx):
    expected = ctx.generate(PROMPT, **GREEDY)

    async def main():
        ticks = 0
        stop = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        chunks = [chunk async for chunk in bitnet.astream(ctx, PROMPT, **GREEDY)]
        stop.set()
        await task
        return "".join(chunks), ticks

    text, ticks = asyncio.run(main())
    assert text == expected and ticks > 1

    async def cancel_midway():
        agen = ctx.astream(PROMPT, capacity=1, temperature=0, max_new_tokens=0, ignore_eos=True)
        await agen.__anext__()
        await agen.aclose()

    asyncio.run(cancel_midway())
    assert ctx.generate(PROMPT, **GREEDY) == expected


def test_tokens_chat_warm_stats_and_state(ctx, tmp_path):
    model = ctx.model
    ids = ctx.tokenize(PROMPT)
    assert ids[0] == model.bos and ctx.detokenize(ids) == PROMPT
    assert model.tokenize(PROMPT, add_bos=False) == ids[1:]
    assert model.token_to_piece(ids[1]) and model.vocab_size == model.info.n_vocab == 512
    assert model.meta("general.architecture") == "bitnet-b1.58" == model.metadata()["general.architecture"]
    with pytest.raises(bitnet.InvalidArgumentError):
        model.meta("no.such.key")

    messages = [{"role": "system", "content": "Be brief."}, ("user", "Hello?")]
    prompt = model.apply_chat_template(messages)
    assert "Hello?" in prompt
    reply = ctx.chat(messages, **GREEDY)
    assert reply == ctx.generate(prompt, parse_special=True, **GREEDY)

    ctx.warm(PROMPT)
    ctx.reset()
    ctx.eval(ctx.tokenize(PROMPT + " again"))
    stats = ctx.stats()
    assert stats.prefix_entries == 1 and stats.prefix_hits >= 1 and stats.n_ctx == 256
    ctx.reset()
    ctx.generate(PROMPT + " and once more", **GREEDY)
    assert ctx.stats().prefix_hits == stats.prefix_hits + 1

    ctx.reset()
    ctx.eval(ids)
    logits = ctx.logits()
    state = ctx.save_state()
    ctx.save_state(tmp_path / "state.bin")
    ctx.reset()
    ctx.load_state(state)
    assert ctx.n_past == len(ids) and ctx.logits() == logits
    ctx.reset()
    ctx.load_state(tmp_path / "state.bin")
    assert ctx.logits() == logits
    with pytest.raises(bitnet.FormatError):
        ctx.load_state(state[: len(state) // 2])


def test_errors_carry_the_library_message(model_path, tmp_path):
    missing = tmp_path / "missing.gguf"
    with pytest.raises(bitnet.BitnetIOError) as caught:
        bitnet.Model(missing)
    assert caught.value.status == -2 and str(missing) in caught.value.message
    assert isinstance(caught.value, bitnet.BitnetError) and isinstance(caught.value, OSError)
    assert "BITNET_E_IO" in str(caught.value)
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"GGUF" + b"\xff" * 60)
    with pytest.raises(bitnet.BitnetError) as caught:
        bitnet.Model(garbage)
    assert caught.value.status in (-3, -4) and caught.value.message
    with pytest.raises(bitnet.CancelledError):
        bitnet.Model(model_path, progress=lambda fraction: False)
    with bitnet.Model(model_path) as model:
        with pytest.raises(bitnet.InvalidArgumentError):
            bitnet.Context(model, kv_type=7)
        with pytest.raises(ValueError, match="kv_type"):
            bitnet.Context(model, kv_type="f8")
        with bitnet.Context(model, n_ctx=16, n_threads=1) as small:
            with pytest.raises(bitnet.ContextFullError):
                small.generate("x" * 200, **GREEDY)
    with pytest.raises(ValueError, match="closed"):
        model.tokenize("x")


def test_closing_the_model_closes_its_contexts(model_path):
    model = bitnet.Model(model_path)
    context = bitnet.Context(model, n_ctx=64, n_threads=1)
    stream = context.stream(PROMPT, **GREEDY)
    next(stream)
    model.close()
    assert context.closed and model.closed
    model.close()
    context.close()  # idempotent


def test_lm_head_type_and_huge_pages_load_options(model_path):
    """The default (Q8_0 where possible) head stays within the int16-x bound of the stored head on a
    model whose embeddings Q8_0 holds exactly; where the weights live never changes a bit."""
    import bitnet

    def last_logits(**params):
        with bitnet.Model(model_path, **params) as model, bitnet.Context(model, n_ctx=64, n_threads=1) as context:
            context.eval(context.tokenize("hello world"))
            return context.logits()

    stored = last_logits(lm_head_type=bitnet.LM_HEAD_AS_STORED)
    default = last_logits()
    assert default == last_logits(lm_head_type=bitnet.LM_HEAD_Q8_0)
    assert max(abs(a - b) for a, b in zip(default, stored)) < 1e-3
    assert stored == last_logits(lm_head_type=bitnet.LM_HEAD_AS_STORED, use_huge_pages=False)
    assert default == last_logits(use_huge_pages=False)
    with pytest.raises(bitnet.InvalidArgumentError, match="lm_head_type 9"):
        bitnet.Model(model_path, lm_head_type=9)
