"""/openapi.json is a valid OpenAPI 3 document that describes exactly the
routes the server answers; /, /health and /metrics answer as documented."""
import re

from openapi_spec_validator import validate

METHODS = ["get", "post", "put", "delete", "patch"]


def test_openapi_is_valid_and_complete(server):
    status, _, spec = server.request("GET", "/openapi.json")
    assert status == 200
    validate(spec)  # raises on an invalid document
    assert spec["openapi"].startswith("3.")
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert {"/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics", "/openapi.json",
            "/"} <= set(spec["paths"])
    for path in spec["paths"]:
        for method in METHODS:
            answer = server.request(method.upper(), path, {} if method == "post" else None)
            if (path, method) in documented:
                assert answer[0] not in (404, 405), (path, method, answer)
            else:
                # Anything the server answers is documented: other methods are refused.
                assert answer[0] == 405, (path, method, answer)


def test_chat_page_is_self_contained(server):
    status, headers, html = server.request("GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "/v1/chat/completions" in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # no CDN


def test_health_and_metrics_format(server):
    status, _, health = server.request("GET", "/health")
    assert status == 200 and health["status"] == "ok" and health["slots"] == 2
    server.request("POST", "/v1/completions", {"prompt": "In the beginning", "max_tokens": 3})
    status, headers, text = server.request("GET", "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    for name, kind in [("bitnet_requests_total", "counter"), ("bitnet_generated_tokens_total", "counter"),
                       ("bitnet_queue_depth", "gauge"), ("bitnet_batch_size", "gauge"),
                       ("bitnet_time_to_first_token_seconds", "histogram")]:
        assert f"# TYPE {name} {kind}" in text
    values = server.metrics()
    assert values['bitnet_requests_total{endpoint="/v1/completions",status="200"}'] >= 1
    assert values["bitnet_generated_tokens_total"] >= 3
    buckets = [(k, v) for k, v in values.items() if k.startswith("bitnet_time_to_first_token_seconds_bucket")]
    counts = [v for _, v in buckets]
    assert counts == sorted(counts) and counts[-1] == values["bitnet_time_to_first_token_seconds_count"] >= 1
