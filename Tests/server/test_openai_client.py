"""The official `openai` package against bitnet serve: completions and chat,
streamed and not, stop sequences, usage counts, sampling fields."""
import openai
import pytest

PROMPT = "And it came to pass, when the king"


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0, timeout=60)


@pytest.fixture(scope="module")
def model_id(client):
    models = client.models.list().data
    assert [m.id for m in models] == ["bitnet-kjv-tiny.gguf"]
    return models[0].id


def test_completion_counts_and_length(client, model_id):
    result = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=12, temperature=0)
    choice = result.choices[0]
    assert choice.finish_reason == "length"
    assert result.usage.completion_tokens == 12
    assert result.usage.prompt_tokens > 0
    assert result.usage.total_tokens == result.usage.prompt_tokens + 12
    assert choice.text
    longer = client.completions.create(model=model_id, prompt=PROMPT + " of Israel said unto", max_tokens=1,
                                       temperature=0)
    assert longer.usage.prompt_tokens > result.usage.prompt_tokens
    assert longer.usage.completion_tokens == 1


def test_completion_stream_matches_non_stream(client, model_id):
    whole = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=24, temperature=0)
    pieces, finishes = [], []
    for chunk in client.completions.create(model=model_id, prompt=PROMPT, max_tokens=24, temperature=0, stream=True):
        pieces.append(chunk.choices[0].text)
        finishes.append(chunk.choices[0].finish_reason)
    assert len(pieces) > 2  # really streamed, not one blob
    assert "".join(pieces) == whole.choices[0].text
    assert finishes[-1] == "length" and all(f is None for f in finishes[:-1])


def test_chat_stream_matches_non_stream_with_usage(client, model_id):
    messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Who was the king?"}]
    whole = client.chat.completions.create(model=model_id, messages=messages, max_tokens=20, temperature=0)
    assert whole.object == "chat.completion"
    assert whole.choices[0].message.role == "assistant"
    assert whole.usage.completion_tokens <= 20
    assert whole.choices[0].finish_reason in ("stop", "length")
    text, roles, usage = "", [], None
    stream = client.chat.completions.create(model=model_id, messages=messages, max_tokens=20, temperature=0,
                                            stream=True, stream_options={"include_usage": True})
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.role:
                roles.append(choice.delta.role)
            text += choice.delta.content or ""
    assert roles == ["assistant"]
    assert text == whole.choices[0].message.content
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens
    assert usage.prompt_tokens == whole.usage.prompt_tokens


def test_stop_sequence_cuts_the_text(client, model_id):
    full = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=32, temperature=0).choices[0].text
    # A stop string taken from the middle of the greedy text: generation must end just before it.
    start = len(full) // 2
    stop = full[start:start + 3]
    assert stop.strip(), f"text too short to pick a stop from: {full!r}"
    expected = full[:full.index(stop)]
    for stream in (False, True):
        if stream:
            chunks = list(client.completions.create(model=model_id, prompt=PROMPT, max_tokens=32, temperature=0,
                                                    stop=[stop, "\u2603never"], stream=True))
            text = "".join(c.choices[0].text for c in chunks)
            finish = chunks[-1].choices[0].finish_reason
        else:
            result = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=32, temperature=0, stop=stop)
            text, finish = result.choices[0].text, result.choices[0].finish_reason
        assert text == expected
        assert finish == "stop"


def test_seed_makes_sampling_repeatable(client, model_id):
    def sample(seed):
        return client.completions.create(model=model_id, prompt=PROMPT, max_tokens=24, temperature=1.0, top_p=0.95,
                                         seed=seed).choices[0].text
    assert sample(1234) == sample(1234)
    assert len({sample(s) for s in (1, 2, 3, 4)}) > 1  # the seed is really used


def test_logit_bias_forces_a_token(client, model_id):
    # +100 on one token makes greedy decoding pick it every time: the text is one piece repeated.
    result = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=6, temperature=0,
                                       logit_bias={"300": 100})
    text = result.choices[0].text
    assert result.usage.completion_tokens == 6
    assert len(text) % 6 == 0 and text == text[:len(text) // 6] * 6, repr(text)
    # -100 bans: the greedy first token is never produced again.
    plain = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=6, temperature=0,
                                      logit_bias={"300": -100}).choices[0].text
    assert text[:len(text) // 6] not in plain


def test_penalties_change_greedy_text(client, model_id):
    base = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=48, temperature=0)
    penalised = client.completions.create(model=model_id, prompt=PROMPT, max_tokens=48, temperature=0,
                                          frequency_penalty=2.0, presence_penalty=2.0)
    assert penalised.usage.completion_tokens > 0
    assert penalised.choices[0].text != base.choices[0].text


def test_a_common_prefix_is_reused_on_the_other_slot(client, model_id, server):
    """Every prompt goes to the slots' shared prefix cache, so a prompt that starts like an
    earlier one reuses that start on either slot; usage.prompt_tokens_details.cached_tokens
    says how many prompt tokens were not evaluated."""
    server.wait_idle()
    system = " ".join(["Hearken, O ye seven watchmen upon the towers of the city, and write it in a book."] * 4)
    first = client.completions.create(model=model_id, prompt=system + " Who went up?", max_tokens=2, temperature=0)
    assert first.usage.prompt_tokens > 60
    assert first.usage.prompt_tokens_details.cached_tokens < 8  # at most a common opening (BOS, a word)
    # The slot the first request used is the one handed out next (last freed first): hold it
    # with a long stream, so the next request runs on the other slot, whose context never saw
    # this text. Only the shared prefix cache can give it the common start.
    holder = client.completions.create(model=model_id, prompt=system + " Who held it?", max_tokens=400,
                                       temperature=0, stream=True)
    try:
        next(iter(holder))
        other = client.completions.create(model=model_id, prompt=system + " Who came down?", max_tokens=2,
                                          temperature=0)
    finally:
        holder.close()
    assert other.usage.prompt_tokens_details.cached_tokens >= first.usage.prompt_tokens - 8
    assert other.usage.prompt_tokens_details.cached_tokens < other.usage.prompt_tokens
    server.wait_idle()
