"""Every error status, over raw HTTP, in OpenAI's error shape."""
import http.client
import json
import socket
import time

import pytest

from conftest import Server, paused_stream


def assert_error(answer, status, code=None, param=None):
    got_status, headers, body = answer
    assert got_status == status, body
    assert headers["Content-Type"].startswith("application/json")
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    if param is not None:
        assert error["param"] == param
    return headers


def test_bad_and_missing_fields(server):
    assert_error(server.request("POST", "/v1/completions", {"max_tokens": 4}), 400, param="prompt")
    assert_error(server.request("POST", "/v1/chat/completions", {"messages": []}), 400, param="messages")
    assert_error(server.request("POST", "/v1/chat/completions", {"messages": [{"role": "wizard", "content": "x"}]}),
                 400, param="messages[0].role")
    assert_error(server.request("POST", "/v1/completions", {"prompt": "a", "temperature": "hot"}), 400,
                 param="temperature")
    assert_error(server.request("POST", "/v1/completions", {"prompt": "a", "temperature": 7}), 400,
                 param="temperature")
    assert_error(server.request("POST", "/v1/completions", {"prompt": "a", "max_tokens": 2.5}), 400,
                 param="max_tokens")
    assert_error(server.request("POST", "/v1/completions", {"prompt": "a", "stop": [1]}), 400, param="stop")
    assert_error(server.request("POST", "/v1/completions", {"prompt": "a", "logit_bias": {"-3": 1}}), 400,
                 param="logit_bias")
    assert_error(server.request("POST", "/v1/completions", {"prompt": "a", "n": 2}), 400, param="n")
    assert_error(server.request("POST", "/v1/completions", raw=b"{not json"), 400)
    assert_error(server.request("POST", "/v1/completions", raw=b"[1, 2]"), 400)


def test_prompt_longer_than_the_context(server):
    answer = server.request("POST", "/v1/completions", {"prompt": "and the king said " * 5000, "max_tokens": 1})
    assert_error(answer, 400, code="context_length_exceeded", param="prompt")
    answer = server.request("POST", "/v1/chat/completions",
                            {"messages": [{"role": "user", "content": "and the king said " * 5000}]})
    assert_error(answer, 400, code="context_length_exceeded", param="messages")


def test_unknown_route_and_wrong_method(server):
    assert_error(server.request("GET", "/v1/nothing"), 404)
    assert_error(server.request("GET", "/v2/completions"), 404)
    headers = assert_error(server.request("GET", "/v1/completions"), 405)
    assert headers["Allow"] == "POST"
    assert_error(server.request("DELETE", "/health"), 405)


def test_body_over_the_limit(server):
    body = json.dumps({"prompt": "x" * (2 << 20)}).encode()
    try:
        answer = server.request("POST", "/v1/completions", raw=body)
    except (ConnectionError, http.client.HTTPException):
        pytest.fail("the server dropped the connection instead of answering 413")
    assert_error(answer, 413)


def test_api_key():
    s = Server("--api-key", "s3cret-key", "--ctx", "256")
    try:
        assert_error(s.request("GET", "/v1/models"), 401, code="invalid_api_key")
        assert_error(s.request("GET", "/v1/models", headers={"Authorization": "Bearer s3cret-kex"}), 401)
        assert_error(s.request("GET", "/v1/models", headers={"Authorization": "Bearer s3cret-key2"}), 401)
        assert_error(s.request("POST", "/v1/completions", {"prompt": "a"}), 401)
        status, _, body = s.request("GET", "/v1/models", headers={"Authorization": "Bearer s3cret-key"})
        assert status == 200 and body["data"][0]["id"] == "bitnet-kjv-tiny.gguf"
        assert s.request("GET", "/health")[0] == 200  # probes need no key
    finally:
        assert s.stop() == 0


def test_queue_full_is_429_with_retry_after():
    s = Server("--parallel", "1", "--queue", "0", "--ctx", "16384")
    try:
        holder = paused_stream(s.port)
        assert holder.recv(64).startswith(b"HTTP/1.1 200")
        headers = assert_error(s.request("POST", "/v1/completions", {"prompt": "a", "max_tokens": 1}), 429,
                               code="rate_limit_exceeded")
        assert int(headers["Retry-After"]) >= 1
        holder.close()
        deadline = time.time() + 10
        while s.request("POST", "/v1/completions", {"prompt": "a", "max_tokens": 1})[0] != 200:
            assert time.time() < deadline, "the slot never came back after the client left"
            time.sleep(0.1)
    finally:
        assert s.stop() == 0
