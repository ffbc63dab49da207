"""bitnet.Context: a KV cache on a model, and the three ways to generate text with it.

- generate() / stream() / astream() use the calling (or an executor) thread only:
  stream() is built on the pull API, so no Python code ever runs on a library thread.
- run() / resume() are push mode: the library calls a Python function per chunk, on
  the calling thread, and maps its return value to continue / pause / cancel.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import weakref
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union

from . import _params
from ._params import Preset, PromptProgress, Schema, Stop, encode_prompt, encode_text, generation_keywords
from ._lib import STREAM_FN, ContextStats, GenerationResult as _CResult, lib
from .batch import Batch
from .errors import check, error_for
from .model import Message, Model
from .results import Action, ChunkInfo, GenerationResult, Stats, StopReason
from .tools import Reply, ToolChoice, Tools, parse_tool_calls

OK, PAUSED, DONE = 0, 1, 2
E_CANCELLED, E_TIMEOUT, E_BUFFER_TOO_SMALL = -8, -10, -11

#: How long one blocking wait for a stream chunk lasts before Python regains control
#: (so Ctrl-C and task cancellation are noticed).
_POLL_MS = 100

Callback = Callable[[str, ChunkInfo], Any]


def _free_context(handle: Optional[int], _model: Model) -> None:
    # `_model` is held only so that the model outlives the context (C API rule).
    lib.bitnet_context_free(handle)


def _new_result() -> _CResult:
    raw = _CResult()
    raw.size = ctypes.sizeof(_CResult)
    return raw


class _PullStream:
    """One bitnet_stream: started on a context, read chunk by chunk, ended once."""

    def __init__(self, ctx: "Context", prompt: Optional[bytes], capacity: int, prepared: _params.PreparedParams):
        handle = ctypes.c_void_p()
        capacity = _params.int_arg(capacity, "capacity", *_params.SIZE)
        check(lib.bitnet_stream_start(ctx.handle, prompt, prepared.ref, capacity, ctypes.byref(handle)))
        self.handle: Optional[int] = handle.value
        self.buffer = ctypes.create_string_buffer(4096)
        self.finished = False  # next() saw the end (DONE or an error)
        self.abandoned = False  # cancel() stopped it before that

    def next(self, timeout_ms: int) -> Union[bytes, int, BaseException]:
        """A chunk's bytes, DONE, E_TIMEOUT, or the error (built on this thread, whose last_error it is)."""
        length = ctypes.c_size_t(0)
        status = lib.bitnet_stream_next(self.handle, self.buffer, len(self.buffer), ctypes.byref(length), timeout_ms)
        if status == E_BUFFER_TOO_SMALL:
            self.buffer = ctypes.create_string_buffer(length.value + 1)
            status = lib.bitnet_stream_next(self.handle, self.buffer, len(self.buffer), ctypes.byref(length), 0)
        if status == OK:
            return self.buffer.raw[: length.value]
        if status in (DONE, E_TIMEOUT):
            self.finished = status == DONE
            return int(status)
        self.finished = True
        return error_for(status)

    def cancel(self) -> None:
        """Stops an unfinished stream (safe while another thread waits in next())."""
        if self.handle is not None and not self.finished:
            self.abandoned = True
            lib.bitnet_stream_cancel(self.handle)

    def end(self) -> GenerationResult:
        """Cancels the stream unless it finished, frees it, and returns how it went."""
        self.cancel()
        abandoned = self.abandoned
        raw = _new_result()
        status = lib.bitnet_stream_result(self.handle, ctypes.byref(raw))
        lib.bitnet_stream_free(self.handle)
        self.handle = None
        check(status)
        if abandoned and raw.stop_reason == StopReason.NONE:
            # The consumer stopped reading; the producer may not have recorded its stop yet
            # (bitnet_stream_result gives the counters so far), and the cancel is the reason.
            raw.stop_reason = StopReason.CANCELLED
        cancelled = abandoned or raw.stop_reason == StopReason.CANCELLED
        return GenerationResult.from_c(raw, "cancelled" if cancelled else "done")


class Context:
    """An inference context (KV cache, scratch, threads) on a :class:`Model`. One thread at a time.

    ``Context(model, n_ctx=0, n_batch=64, n_threads=0, kv_type='f16', logits_all=False,
    prefix_cache_bytes=64 MiB, prefix_eviction='lru', prefix_cache_auto=False,
    overflow_policy='stop', n_keep=4, batch=None)``. Use it as a context manager or call :meth:`close`.
    With ``batch=`` (a :class:`Batch` of the same model) its evaluations share the batch's
    forward passes with the other contexts of that batch (drive each from its own thread).

    Generation keywords (of generate, stream, astream, run, chat) are the C field names of
    bitnet_generation_params: temperature (0 = greedy), top_k, top_p, min_p, typical_p,
    repetition_penalty, repeat_last_n, presence_penalty, frequency_penalty, seed,
    max_new_tokens (0 = until a stop or a full context), ignore_eos, add_bos, parse_special;
    plus preset ('fast'|'balanced'|'quality', applied before the other keywords),
    stop (a string or strings), stop_tokens (ids), logit_bias ({id: bias}) and, outside
    streams, progress(done, total) (False cancels). A sampling keyword left at None keeps
    the library's default (the 'balanced' preset) or the preset's value; seed=None is random.
    grammar (GBNF) or json_schema constrain the text; tools (OpenAI's shape), tool_choice and
    tool_template (the chat template whose call format applies; None = the model's) constrain
    it to text or valid calls: generate and chat return them parsed in Reply.tool_calls, the
    streaming methods yield the raw text (split it with Model.parse_tool_calls).
    """

    def __init__(self, model: Model, *, batch: Optional["Batch"] = None, **params: Any):
        struct = _params.context_params(params)
        if batch is not None:
            if not isinstance(batch, Batch):
                raise TypeError(f"batch must be a bitnet.Batch, not {type(batch).__name__}")
            struct.batch = batch.handle
        handle = ctypes.c_void_p()
        check(lib.bitnet_context_new(model.handle, ctypes.byref(struct), ctypes.byref(handle)))
        self.model = model
        #: The Batch whose steps evaluate this context, or None.
        self.batch = batch
        self._handle: Optional[int] = handle.value
        self._finalizer = weakref.finalize(self, _free_context, handle.value, model)
        self._streams: "weakref.WeakSet[Any]" = weakref.WeakSet()  # live stream generators
        #: The result of the last finished generate() / stream() / run() on this context.
        self.last_result: Optional[GenerationResult] = None
        model._contexts.add(self)

    # MARK: lifetime

    @property
    def handle(self) -> int:
        """The bitnet_context* as an integer; raises ValueError once closed."""
        if self._handle is None:
            raise ValueError("the context is closed")
        return self._handle

    @property
    def closed(self) -> bool:
        return self._handle is None

    def close(self) -> None:
        """Ends any stream on the context, then frees it. Idempotent."""
        for stream in list(self._streams):
            stream.close()
        self._handle = None
        self._finalizer()

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # MARK: generation, pull mode

    def generate(
        self, prompt: Optional[str], *,
        preset: Optional[Preset] = None, temperature: Optional[float] = None, top_k: Optional[int] = None,
        top_p: Optional[float] = None, min_p: Optional[float] = None, typical_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None, repeat_last_n: Optional[int] = None,
        presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None, max_new_tokens: int = 256, stop: Stop = None,
        stop_tokens: Optional[Sequence[int]] = None, logit_bias: Optional[Mapping[int, float]] = None,
        ignore_eos: bool = False, add_bos: bool = True, parse_special: bool = False,
        grammar: Optional[str] = None, json_schema: Schema = None,
        tools: Tools = None, tool_choice: ToolChoice = None, tool_template: Optional[str] = None,
        progress: Optional[PromptProgress] = None,
    ) -> Reply:
        """The text generated after `prompt` (None continues the context). Blocks until done.
        The keywords are described in the class docstring. With `tools`, the reply is text or
        calls in `tool_template`'s format (None: the model's template; render the prompt
        with the same one), parsed into the returned Reply's `tool_calls`."""
        text = self._collect(prompt, generation_keywords(locals()))
        if tools is None:
            return Reply(text)
        return parse_tool_calls(self.model.handle, text, tool_template)

    def _collect(self, prompt: Optional[str], keywords: Mapping[str, Any]) -> str:
        chunks: list[str] = []
        self._run(prompt, lambda text, _info: chunks.append(text), keywords)
        return "".join(chunks)

    def generate_json(
        self, prompt: Optional[str], schema: Union[Mapping[str, Any], bool, str], *,
        preset: Optional[Preset] = None, temperature: Optional[float] = None, top_k: Optional[int] = None,
        top_p: Optional[float] = None, min_p: Optional[float] = None, typical_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None, repeat_last_n: Optional[int] = None,
        presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None, max_new_tokens: int = 256, stop: Stop = None,
        stop_tokens: Optional[Sequence[int]] = None, logit_bias: Optional[Mapping[int, float]] = None,
        ignore_eos: bool = False, add_bos: bool = True, parse_special: bool = False,
        progress: Optional[PromptProgress] = None,
    ) -> Any:
        """Generates an instance of the JSON Schema `schema` (a mapping or JSON text) and returns
        it parsed. Raises ValueError when the generation stopped before the JSON was complete
        (max_new_tokens, a full context or a stop sequence): the text is then a valid prefix."""
        keywords = generation_keywords(locals())
        keywords["json_schema"] = schema
        chunks: list[str] = []
        result = self._run(prompt, lambda text, _info: chunks.append(text), keywords)
        text = "".join(chunks)
        if result.stop_reason != StopReason.EOS:
            raise ValueError(f"generation stopped ({result.stop_reason.name}) before the JSON was complete: {text!r}")
        return json.loads(text)

    def stream(
        self, prompt: Optional[str], *, capacity: int = 16,
        preset: Optional[Preset] = None, temperature: Optional[float] = None, top_k: Optional[int] = None,
        top_p: Optional[float] = None, min_p: Optional[float] = None, typical_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None, repeat_last_n: Optional[int] = None,
        presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None, max_new_tokens: int = 256, stop: Stop = None,
        stop_tokens: Optional[Sequence[int]] = None, logit_bias: Optional[Mapping[int, float]] = None,
        ignore_eos: bool = False, add_bos: bool = True, parse_special: bool = False,
        grammar: Optional[str] = None, json_schema: Schema = None,
        tools: Tools = None, tool_choice: ToolChoice = None, tool_template: Optional[str] = None,
    ) -> Iterator[str]:
        """A generator of the text, chunk by chunk, as a thread of the library produces it
        (pull API: bitnet_stream_next; `capacity` chunks may wait in its queue). No progress=:
        the prompt is evaluated on the library's thread, where no Python code runs.

        Closing the generator early (.close(), or garbage collection after a break) cancels
        the generation and frees the context. :attr:`last_result` holds the result once the
        generator is exhausted or closed (status 'cancelled' when closed early).
        """
        # Arguments are checked now; the generation starts at the first next(), like any
        # generator body, so a generator that is never iterated holds nothing.
        encoded = encode_prompt(prompt)
        generator = self._drain(encoded, capacity, _params.generation_params(generation_keywords(locals())))
        self._streams.add(generator)
        return generator

    def _drain(self, prompt: Optional[bytes], capacity: int, prepared: _params.PreparedParams) -> Iterator[str]:
        pull = _PullStream(self, prompt, capacity, prepared)
        try:
            while True:
                item = pull.next(_POLL_MS)
                if isinstance(item, bytes):
                    yield item.decode("utf-8")
                elif item == DONE:
                    return
                elif isinstance(item, BaseException):
                    raise item
        finally:
            self.last_result = pull.end()

    def astream(
        self, prompt: Optional[str], *, capacity: int = 16,
        preset: Optional[Preset] = None, temperature: Optional[float] = None, top_k: Optional[int] = None,
        top_p: Optional[float] = None, min_p: Optional[float] = None, typical_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None, repeat_last_n: Optional[int] = None,
        presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None, max_new_tokens: int = 256, stop: Stop = None,
        stop_tokens: Optional[Sequence[int]] = None, logit_bias: Optional[Mapping[int, float]] = None,
        ignore_eos: bool = False, add_bos: bool = True, parse_special: bool = False,
        grammar: Optional[str] = None, json_schema: Schema = None,
        tools: Tools = None, tool_choice: ToolChoice = None, tool_template: Optional[str] = None,
    ) -> AsyncIterator[str]:
        """As :meth:`stream`, for asyncio: each wait runs in the loop's default executor,
        so the event loop keeps running. Cancelling the consuming task (or aclose()) cancels
        the generation; :attr:`last_result` is set however the iteration ends."""
        encoded = encode_prompt(prompt)
        return self._adrain(encoded, capacity, _params.generation_params(generation_keywords(locals())))

    async def _adrain(self, prompt: Optional[bytes], capacity: int,
                      prepared: _params.PreparedParams) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        pull = _PullStream(self, prompt, capacity, prepared)
        pending: Optional[asyncio.Future[Any]] = None
        try:
            while True:
                pending = loop.run_in_executor(None, pull.next, _POLL_MS)
                item = await asyncio.shield(pending)
                pending = None
                if isinstance(item, bytes):
                    yield item.decode("utf-8")
                elif item == DONE:
                    return
                elif isinstance(item, BaseException):
                    raise item
        finally:
            pull.cancel()
            if pending is not None:
                # A wait is still running in the executor: let it see the cancel before freeing.
                await asyncio.wait([pending])
            self.last_result = pull.end()

    # MARK: generation, push mode

    def run(
        self, prompt: Optional[str], callback: Callback, *,
        preset: Optional[Preset] = None, temperature: Optional[float] = None, top_k: Optional[int] = None,
        top_p: Optional[float] = None, min_p: Optional[float] = None, typical_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None, repeat_last_n: Optional[int] = None,
        presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None, max_new_tokens: int = 256, stop: Stop = None,
        stop_tokens: Optional[Sequence[int]] = None, logit_bias: Optional[Mapping[int, float]] = None,
        ignore_eos: bool = False, add_bos: bool = True, parse_special: bool = False,
        grammar: Optional[str] = None, json_schema: Schema = None,
        tools: Tools = None, tool_choice: ToolChoice = None, tool_template: Optional[str] = None,
        progress: Optional[PromptProgress] = None,
    ) -> GenerationResult:
        """Push mode: calls ``callback(text, info)`` with each chunk, on this thread.

        The callback returns None / True / Action.CONTINUE to go on, Action.PAUSE to pause
        (then :meth:`resume`), Action.CANCEL or False to stop. An exception in the callback
        cancels the generation and is re-raised here. Returns the result; its status is
        'done', 'paused' or 'cancelled' (cancelled by the callback). An interrupt() from
        another thread raises CancelledError.
        """
        return self._run(prompt, callback, generation_keywords(locals()))

    def _run(self, prompt: Optional[str], callback: Callback, keywords: Mapping[str, Any]) -> GenerationResult:
        encoded = encode_prompt(prompt)
        prepared = _params.generation_params(keywords)
        handle = self.handle
        return self._push(
            lambda fn, result: lib.bitnet_generate(handle, encoded, prepared.ref, fn, None, result),
            callback,
            prepared.errors,
        )

    def resume(self, callback: Callback) -> GenerationResult:
        """Continues a paused push generation exactly where it stopped (see :meth:`run`)."""
        handle = self.handle
        return self._push(lambda fn, result: lib.bitnet_generate_resume(handle, fn, None, result), callback, [])

    def _push(self, call: Callable[[Any, Any], int], callback: Callback,
              progress_errors: list[BaseException]) -> GenerationResult:
        errors: list[BaseException] = []
        cancelled_by_callback = False

        def trampoline(text: Any, length: int, info: Any, _user: Any) -> int:
            nonlocal cancelled_by_callback
            try:
                answer = callback(ctypes.string_at(text, length).decode("utf-8"), ChunkInfo.from_c(info.contents))
            except BaseException as error:  # noqa: BLE001 - re-raised after bitnet_generate returns
                errors.append(error)
                return int(Action.CANCEL)
            if answer is None or answer is True:
                return int(Action.CONTINUE)
            if answer is False:
                answer = Action.CANCEL
            action = int(answer)
            if action not in (Action.CONTINUE, Action.PAUSE):
                cancelled_by_callback = True
                action = int(Action.CANCEL)
            return action

        fn = STREAM_FN(trampoline)  # alive for the whole call; resume passes a new one
        raw = _new_result()
        status = call(fn, ctypes.byref(raw))
        if errors or progress_errors:
            self.last_result = GenerationResult.from_c(raw, "cancelled")
            raise (errors or progress_errors)[0]
        if status == PAUSED:
            return GenerationResult.from_c(raw, "paused")
        if status == E_CANCELLED:
            self.last_result = GenerationResult.from_c(raw, "cancelled")
            if cancelled_by_callback:
                return self.last_result
        check(status)  # an interrupt from another thread raises CancelledError here
        self.last_result = GenerationResult.from_c(raw, "done")
        return self.last_result

    # MARK: chat, tokens

    def chat(
        self, messages: Iterable[Message], *, template: Optional[str] = None,
        preset: Optional[Preset] = None, temperature: Optional[float] = None, top_k: Optional[int] = None,
        top_p: Optional[float] = None, min_p: Optional[float] = None, typical_p: Optional[float] = None,
        repetition_penalty: Optional[float] = None, repeat_last_n: Optional[int] = None,
        presence_penalty: Optional[float] = None, frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None, max_new_tokens: int = 256, stop: Stop = None,
        stop_tokens: Optional[Sequence[int]] = None, logit_bias: Optional[Mapping[int, float]] = None,
        ignore_eos: bool = False, add_bos: bool = True, parse_special: bool = True,
        grammar: Optional[str] = None, json_schema: Schema = None,
        tools: Tools = None, tool_choice: ToolChoice = None, tool_template: Optional[str] = None,
        progress: Optional[PromptProgress] = None,
    ) -> Reply:
        """The assistant's reply to `messages` ({'role', 'content'} dicts or pairs), rendered
        with the model's chat template (or `template`: 'bitnet' / 'llama3' / 'chatml'). The
        rendered prompt holds control-token text, hence parse_special=True by default.

        `tools` (OpenAI's shape) are described to the model the template family's way and
        the reply is constrained to text or calls of them with valid arguments (`tool_choice`:
        'auto' (default), 'required', 'none', or {'type': 'function', 'function': {'name': ...}});
        the calls are in the returned Reply's `tool_calls`. Messages may hold earlier calls
        ('tool_calls', e.g. ToolCall objects) and results (role 'tool')."""
        keywords = generation_keywords(locals())
        tool_template = tool_template if tool_template is not None else template
        keywords["tool_template"] = tool_template
        prompt = self.model.apply_chat_template(messages, template=template, add_assistant=True, tools=tools)
        text = self._collect(prompt, keywords)
        if tools is None:
            return Reply(text)
        return parse_tool_calls(self.model.handle, text, tool_template)

    def tokenize(self, text: str, *, add_bos: bool = True, parse_special: bool = False) -> list[int]:
        return self.model.tokenize(text, add_bos=add_bos, parse_special=parse_special)

    def detokenize(self, tokens: Iterable[int]) -> str:
        return self.model.detokenize(tokens)

    # MARK: low level

    def eval(self, tokens: Sequence[int]) -> None:
        """Appends tokens to the sequence and computes the logits of the last one."""
        array = (ctypes.c_int32 * len(tokens))(*tokens)
        check(lib.bitnet_context_eval(self.handle, array, len(tokens)))

    def logits(self, row: int = -1) -> list[float]:
        """A copy of the logits of `row` of the last eval (-1 = last); [] when there are none."""
        pointer = lib.bitnet_context_logits_ith(self.handle, _params.int_arg(row, "row", *_params.INT32))
        return list(pointer[: self.model.vocab_size]) if pointer else []

    @property
    def n_past(self) -> int:
        return int(lib.bitnet_context_n_past(self.handle))

    @property
    def n_ctx(self) -> int:
        return int(lib.bitnet_context_n_ctx(self.handle))

    def reset(self) -> None:
        check(lib.bitnet_context_reset(self.handle))

    def truncate(self, n_keep: int) -> None:
        check(lib.bitnet_context_truncate(self.handle, _params.int_arg(n_keep, "n_keep", *_params.INT32)))

    def shift(self) -> int:
        """Drops the older half of the tokens after n_keep; returns how many were dropped."""
        dropped = ctypes.c_int32(0)
        check(lib.bitnet_context_shift(self.handle, ctypes.byref(dropped)))
        return dropped.value

    def interrupt(self) -> None:
        """Asks the running eval / generation / stream to stop. Safe from any thread."""
        check(lib.bitnet_context_interrupt(self.handle))

    # MARK: prefix cache, stats, state

    def warm(self, prefix: Union[str, Sequence[int]]) -> None:
        """Computes the KV of `prefix` (text or ids) and stores it in the prefix cache."""
        if isinstance(prefix, (bytes, bytearray)):  # a Sequence[int], but surely meant as text
            raise TypeError(f"prefix must be str or a sequence of token ids, not {type(prefix).__name__}")
        if isinstance(prefix, str):
            check(lib.bitnet_cache_warm(self.handle, encode_text(prefix, "prefix")))
        else:
            array = (ctypes.c_int32 * len(prefix))(*prefix)
            check(lib.bitnet_cache_warm_tokens(self.handle, array, len(prefix)))

    def cache_clear(self) -> None:
        check(lib.bitnet_cache_clear(self.handle))

    def stats(self) -> Stats:
        raw = ContextStats()
        raw.size = ctypes.sizeof(ContextStats)
        check(lib.bitnet_context_stats_get(self.handle, ctypes.byref(raw)))
        return Stats.from_c(raw)

    def save_state(self, path: Union[str, "os.PathLike[str]", None] = None) -> Optional[bytes]:
        """Saves the state to `path` (atomically), or returns it as bytes when path is None."""
        if path is not None:
            check(lib.bitnet_state_save(self.handle, os.fsencode(path)), filename=path)
            return None
        size = ctypes.c_size_t(0)
        check(lib.bitnet_state_size(self.handle, ctypes.byref(size)))
        buf = ctypes.create_string_buffer(size.value)
        written = ctypes.c_size_t(0)
        check(lib.bitnet_state_save_buffer(self.handle, buf, size.value, ctypes.byref(written)))
        return buf.raw[: written.value]

    def load_state(self, source: Union[bytes, str, "os.PathLike[str]"]) -> None:
        """Restores a state saved by :meth:`save_state` (bytes or a file path)."""
        if isinstance(source, (bytes, bytearray)):
            buf = ctypes.create_string_buffer(bytes(source), len(source))
            check(lib.bitnet_state_load_buffer(self.handle, buf, len(source)))
        else:
            check(lib.bitnet_state_load(self.handle, os.fsencode(source)), filename=source)

    def __repr__(self) -> str:
        return f"<bitnet.Context {'closed' if self.closed else hex(self._handle or 0)}>"
