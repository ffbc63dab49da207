"""The server against its own OpenAPI description, driven by schemathesis
(property-based requests from /openapi.json): no 5xx, every status code,
content type, response body and SSE event as documented, and every request
the description forbids refused. Bounded (fixed seed, a few dozen examples
per operation, loopback); `make fuzz-server` runs a longer campaign.

Requests the description allows may still be refused for reasons no schema
can state (a prompt longer than the context, a token id beyond the model's
vocabulary), so schemathesis's positive-acceptance check is left out."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import Server

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))


def test_the_server_keeps_to_its_openapi_description(tmp_path):
    program = shutil.which("schemathesis") or shutil.which("st")
    if program is None:
        pytest.skip("schemathesis is not installed (make deps-server installs it)")
    server = Server("--parallel", "2", "--queue", "8", "--ctx", "256")
    try:
        result = subprocess.run(
            [program, "run", server.base + "/openapi.json", "--checks", "all",
             "--exclude-checks", "positive_data_acceptance", "--max-examples", str(EXAMPLES),
             "--seed", "1", "--request-timeout", "30"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path)  # its .schemathesis/ cache stays out of the tree
    finally:
        assert server.stop() == 0, server.output()
    summary = "\n".join(result.stdout.splitlines()[-40:])
    assert result.returncode == 0, summary
    assert " passed" in summary and "failures" not in summary.split("Test cases:")[-1], summary
