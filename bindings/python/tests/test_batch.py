"""bitnet.Batch: contexts driven from their own threads share forward passes, and every
sequence generates what it generates alone with the same seed."""

from __future__ import annotations

import threading

import pytest

import bitnet

PROMPTS = ["The quick brown fox", "In the beginning", "Hello there, general", "1, 2, 3,", "Once upon a time"]
SAMPLED = dict(temperature=1.0, top_p=0.95, max_new_tokens=20, ignore_eos=True)


@pytest.fixture()
def model(model_path):
    with bitnet.Model(model_path) as loaded:
        yield loaded


def solo_texts(model: bitnet.Model) -> list[str]:
    texts = []
    for i, prompt in enumerate(PROMPTS):
        with bitnet.Context(model, n_ctx=128, n_threads=2) as ctx:
            texts.append(ctx.generate(prompt, seed=10 + i, **SAMPLED))
    return texts


def test_threads_on_one_batch_get_their_solo_text(model):
    expected = solo_texts(model)
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    with bitnet.Batch(model, max_sequences=len(PROMPTS), n_threads=2) as batch:
        contexts = [bitnet.Context(model, n_ctx=128, batch=batch) for _ in PROMPTS]

        def work(i: int) -> None:
            try:
                results[i] = contexts[i].generate(PROMPTS[i], seed=10 + i, **SAMPLED)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(PROMPTS))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert [results[i] for i in range(len(PROMPTS))] == expected
        stats = batch.stats()
        assert stats.n_sequences == len(PROMPTS)
        assert stats.n_steps > 0 and stats.n_tokens >= len(PROMPTS) * 20
        assert stats.mean_batch_size > 1.0
        for ctx in contexts:
            ctx.close()
        assert batch.stats().n_sequences == 0


def test_streams_on_a_batch_from_one_thread(model):
    expected = solo_texts(model)[:3]
    with bitnet.Batch(model, max_sequences=3, n_threads=2) as batch:
        contexts = [bitnet.Context(model, n_ctx=128, batch=batch) for _ in range(3)]
        # Streams run on library threads, so one Python thread can read all three at once.
        streams = [ctx.stream(PROMPTS[i], seed=10 + i, **SAMPLED) for i, ctx in enumerate(contexts)]
        texts = ["", "", ""]
        live = set(range(3))
        while live:
            for i in list(live):
                try:
                    texts[i] += next(streams[i])
                except StopIteration:
                    live.discard(i)
        assert texts == expected


def test_batch_arguments_are_checked(model):
    with pytest.raises(bitnet.InvalidArgumentError, match="max_sequences"):
        bitnet.Batch(model, max_sequences=0)
    with pytest.raises(TypeError):
        bitnet.Batch(model, prompt_chunk="16")  # type: ignore[arg-type]
    with pytest.raises(OverflowError):
        bitnet.Batch(model, n_threads=2**40)
    with pytest.raises(ValueError, match="prefix_eviction"):
        bitnet.Batch(model, prefix_eviction="random")
    with pytest.raises(TypeError, match="bitnet.Batch"):
        bitnet.Context(model, batch=object())  # type: ignore[arg-type]
    with bitnet.Batch(model, max_sequences=1) as batch:
        with bitnet.Context(model, batch=batch):
            with pytest.raises(bitnet.BusyError, match="max_sequences"):
                bitnet.Context(model, batch=batch)
    with pytest.raises(ValueError, match="closed"):
        bitnet.Context(model, batch=batch)


def test_closing_the_batch_first_keeps_its_contexts_working(model):
    batch = bitnet.Batch(model, max_sequences=2)
    ctx = bitnet.Context(model, n_ctx=128, batch=batch)
    batch.close()
    assert ctx.generate(PROMPTS[0], seed=10, **SAMPLED) == solo_texts(model)[0]
    ctx.close()
