"""The Python surface: declared generation keywords, str-only text, Model.info, last_result
after a cancelled stream, and the OSError fields of the I/O errors."""

from __future__ import annotations

import asyncio
import ctypes
import errno
import inspect
import os
import pickle

import pytest

import bitnet
from bitnet import _lib

PROMPT = "The quick brown fox jumps over the lazy dog"
GREEDY = dict(temperature=0, max_new_tokens=12, ignore_eos=True)
UNTIL_FULL = dict(temperature=0, max_new_tokens=0, ignore_eos=True)  # long enough to cancel midway

SAMPLING = ["preset", "temperature", "top_k", "top_p", "min_p", "typical_p", "repetition_penalty", "repeat_last_n",
            "presence_penalty", "frequency_penalty", "seed", "max_new_tokens", "stop", "stop_tokens", "logit_bias",
            "ignore_eos", "add_bos", "parse_special", "grammar", "json_schema", "tools", "tool_choice", "tool_template"]
METHODS = {  # name -> (function, its parameters before the generation keywords, takes progress=)
    "generate": (bitnet.Context.generate, ["self", "prompt"], True),
    "run": (bitnet.Context.run, ["self", "prompt", "callback"], True),
    "chat": (bitnet.Context.chat, ["self", "messages", "template"], True),
    "stream": (bitnet.Context.stream, ["self", "prompt", "capacity"], False),
    "astream": (bitnet.Context.astream, ["self", "prompt", "capacity"], False),
    "bitnet.astream": (bitnet.astream, ["self", "prompt", "capacity"], False),
}


@pytest.mark.parametrize("name", METHODS)
def test_generation_keywords_are_declared(name, library):
    function, leading, progress = METHODS[name]
    parameters = inspect.signature(function).parameters
    assert list(parameters) == leading + SAMPLING + (["progress"] if progress else [])
    assert all(p.kind != p.VAR_KEYWORD for p in parameters.values())  # no **kwargs swallowing typos
    for keyword in SAMPLING:
        assert parameters[keyword].kind == inspect.Parameter.KEYWORD_ONLY
        assert parameters[keyword].annotation != inspect.Parameter.empty, keyword


def test_declared_defaults_are_the_libraries(library):
    """Fields no preset sets have their C default in the signature; sampling ones are None
    (the library's default or the preset's value)."""
    c = _lib.GenerationParams()
    _lib.lib.bitnet_generation_params_init(ctypes.byref(c))
    for name, (function, _, _) in METHODS.items():
        defaults = {k: p.default for k, p in inspect.signature(function).parameters.items()}
        assert defaults["max_new_tokens"] == c.max_new_tokens == 256
        assert defaults["ignore_eos"] is bool(c.ignore_eos) and defaults["add_bos"] is bool(c.add_bos)
        # chat's rendered prompt holds control-token text: parse_special defaults to True there.
        assert defaults["parse_special"] is (name == "chat" or bool(c.parse_special)), name
        assert all(defaults[k] is None for k in SAMPLING[:11] + ["stop", "stop_tokens", "logit_bias"]), name


def test_a_misspelt_keyword_raises_type_error(ctx):
    for call in (lambda: ctx.generate(PROMPT, max_new_token=3), lambda: ctx.stream(PROMPT, temprature=0),
                 lambda: ctx.astream(PROMPT, top=3), lambda: ctx.run(PROMPT, print, seeds=1),
                 lambda: ctx.chat([("user", "hi")], stops=["x"]), lambda: bitnet.astream(ctx, PROMPT, topk=1)):
        with pytest.raises(TypeError, match="unexpected keyword argument"):
            call()


def test_none_keeps_the_preset(ctx):
    greedy = ctx.generate(PROMPT, **GREEDY)
    # 'fast' is greedy; the other keywords left at None do not undo it.
    assert ctx.generate(PROMPT, preset="fast", max_new_tokens=12, ignore_eos=True) == greedy
    sampled = dict(preset="fast", temperature=1.5, seed=3, max_new_tokens=12, ignore_eos=True)
    assert ctx.generate(PROMPT, **sampled) == ctx.generate(PROMPT, **sampled)  # seeded: reproducible
    assert any(ctx.generate(PROMPT, **{**sampled, "seed": s}) != greedy for s in range(3, 8))  # not greedy


def test_bytes_are_refused_where_text_is_expected(ctx):
    calls = {
        "generate": lambda: ctx.generate(b"hello"),
        "stream": lambda: ctx.stream(b"hello"),  # at the call, not at the first next()
        "astream": lambda: ctx.astream(b"hello"),
        "run": lambda: ctx.run(b"hello", lambda text, info: None),
        "chat": lambda: ctx.chat([{"role": "user", "content": b"hello"}]),
        "stop": lambda: ctx.generate(PROMPT, stop=[b"x"]),
        "tokenize": lambda: ctx.model.tokenize(b"hello"),
        "warm": lambda: ctx.warm(b"hello"),  # bytes are a Sequence[int], but not token ids
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match="bytes"):
            call()
    assert ctx.generate(PROMPT, **GREEDY)  # nothing was started


def test_model_info_is_a_property(ctx):
    model = ctx.model
    assert isinstance(inspect.getattr_static(bitnet.Model, "info"), property)
    info = model.info
    assert isinstance(info, bitnet.ModelInfoView)
    assert info.n_vocab == model.vocab_size == 512 and info.arch == "bitnet-b1.58" and info.n_layer >= 1
    model.close()
    with pytest.raises(ValueError, match="closed"):
        model.info


def test_validate_only_checks_the_file_and_makes_no_contexts(model_path):
    with bitnet.Model(model_path, validate_only=True) as checked:
        info = checked.info
        assert info.validate_only and not info.vocab_only and info.n_vocab == 512
        assert checked.tokenize("hello")  # the tokenizer answers
        with pytest.raises(bitnet.InvalidArgumentError):
            bitnet.Context(checked)
    with bitnet.Model(model_path) as loaded:
        assert not loaded.info.validate_only


def test_stream_closed_early_sets_a_cancelled_last_result(ctx):
    ctx.generate(PROMPT, **GREEDY)
    stream = ctx.stream(PROMPT, capacity=1, **UNTIL_FULL)
    next(stream)
    stream.close()
    result = ctx.last_result
    assert result.status == "cancelled" and result.stop_reason == bitnet.StopReason.CANCELLED
    assert result.n_generated >= 1
    "".join(ctx.stream(PROMPT, **GREEDY))
    assert ctx.last_result.status == "done" and ctx.last_result.n_generated == GREEDY["max_new_tokens"]


def test_cancelled_astream_sets_last_result(ctx):
    async def cancel_the_consumer() -> list[str]:
        chunks: list[str] = []
        first = asyncio.Event()

        async def consume() -> None:
            async for chunk in ctx.astream(PROMPT, capacity=1, **UNTIL_FULL):
                chunks.append(chunk)
                first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return chunks

    ctx.last_result = None
    chunks = asyncio.run(cancel_the_consumer())
    result = ctx.last_result
    assert chunks and result is not None
    assert result.status == "cancelled" and result.stop_reason == bitnet.StopReason.CANCELLED
    assert result.n_generated >= 1 and result.n_prompt_tokens == len(ctx.tokenize(PROMPT))

    async def aclose_midway() -> None:
        agen = ctx.astream(PROMPT, capacity=1, **UNTIL_FULL)
        await agen.__anext__()
        await agen.aclose()

    ctx.last_result = None
    asyncio.run(aclose_midway())
    assert ctx.last_result is not None and ctx.last_result.status == "cancelled"

    async def to_the_end() -> str:
        return "".join([chunk async for chunk in ctx.astream(PROMPT, **GREEDY)])

    assert asyncio.run(to_the_end()) == ctx.generate(PROMPT, **GREEDY)
    assert ctx.last_result.status == "done"


def test_io_errors_carry_errno_and_filename(ctx, tmp_path):
    missing = tmp_path / "missing.gguf"
    with pytest.raises(bitnet.BitnetIOError) as caught:
        bitnet.Model(missing)  # a PathLike: filename is its str, as os.fspath gives
    error = caught.value
    assert isinstance(error, OSError) and error.status == -2
    assert error.errno == errno.ENOENT and error.strerror == os.strerror(errno.ENOENT)
    assert error.filename == str(missing) and str(missing) in str(error) and "BITNET_E_IO" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.status, copy.message, copy.filename) == (type(error), -2, error.message, str(missing))

    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(bitnet.BitnetIOError) as caught:
        bitnet.Model(str(tmp_path / "file" / "x.gguf"))  # a component is not a directory
    assert caught.value.errno == errno.ENOTDIR and caught.value.filename == str(tmp_path / "file" / "x.gguf")

    with pytest.raises(bitnet.BitnetIOError) as caught:
        bitnet.Model(tmp_path)  # no system call failed: no errno, the message is the reason
    assert caught.value.errno is None and caught.value.filename == str(tmp_path)
    assert caught.value.strerror == caught.value.message

    ctx.eval(ctx.tokenize(PROMPT))
    target = tmp_path / "no-such-dir" / "state.bin"
    with pytest.raises(bitnet.BitnetIOError) as caught:
        ctx.save_state(target)
    assert caught.value.errno == errno.ENOENT and caught.value.filename == str(target)
    with pytest.raises(bitnet.BitnetIOError) as caught:
        ctx.load_state(str(target))
    assert caught.value.errno == errno.ENOENT and caught.value.filename == str(target)


def test_errors_that_are_not_oserrors_have_no_errno_fields(ctx):
    with pytest.raises(bitnet.InvalidArgumentError) as caught:
        ctx.model.meta("no.such.key")
    assert not isinstance(caught.value, OSError) and not hasattr(caught.value, "errno")
    timeout = bitnet.BitnetTimeoutError(-10, "no chunk within 5 ms")
    assert isinstance(timeout, TimeoutError) and timeout.errno is None and timeout.filename is None
    assert str(timeout).startswith("no chunk within 5 ms")


# MARK: - findings of the atheris harness (Fuzz/python/fuzz_binding.py), kept as regressions


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda c: c.model.meta(None), TypeError),
        (lambda c: c.model.tokenize(None), TypeError),
        (lambda c: c.tokenize(3.5), TypeError),
        (lambda c: c.generate(7, **GREEDY), TypeError),
        (lambda c: c.truncate("3"), TypeError),
        (lambda c: c.truncate(2**40), OverflowError),
        (lambda c: c.logits("last"), TypeError),
        (lambda c: c.logits(True), TypeError),
        (lambda c: list(c.stream(PROMPT, capacity="16", **GREEDY)), TypeError),
        (lambda c: list(c.stream(PROMPT, capacity=-1, **GREEDY)), OverflowError),
        (lambda c: c.generate(PROMPT, logit_bias="abc", **GREEDY), TypeError),
        (lambda c: c.generate(PROMPT, stop=[object()], **GREEDY), TypeError),
        (lambda c: c.chat([{"role": 1, "content": "hi"}], max_new_tokens=2), TypeError),
    ],
)
def test_bad_arguments_raise_ordinary_python_errors(ctx, call, error):
    with pytest.raises(error):
        call(ctx)
    assert ctx.generate(PROMPT, **GREEDY)  # the context is still usable
