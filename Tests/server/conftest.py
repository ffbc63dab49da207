"""Starts `bitnet serve` on a free loopback port for the tests in this folder.

BITNET_SERVER names the server binary (default: build/bin/bitnet-server);
when build/bin/bitnet exists the server is started through `bitnet serve`,
so the CLI's hand-off is exercised too.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "bitnet-kjv-tiny.gguf")
SERVER = os.environ.get("BITNET_SERVER", os.path.join(ROOT, "build", "bin", "bitnet-server"))
CLI = os.path.join(os.path.dirname(SERVER), "bitnet")


def paused_stream(port, prompt="And the king"):
    """A streaming completion with a tiny receive window that is never read:
    its generation must pause once the buffers between are full."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # before connect: sets the window
    sock.connect(("127.0.0.1", port))
    body = json.dumps({"prompt": prompt, "max_tokens": 100000, "stream": True}).encode()
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    return sock


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One server process; `stop()` sends SIGTERM and returns the exit status."""

    def __init__(self, *args, via_cli=True, model=MODEL):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        program = [CLI, "serve"] if via_cli and os.access(CLI, os.X_OK) else [SERVER]
        command = program + ["-m", model, "--port", str(self.port), *args]
        self.log = open(os.path.join(ROOT, "build", f"test-server-{self.port}.log"), "w+")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.output()}")
            try:
                with urllib.request.urlopen(self.base + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError("server did not become healthy in 60 s")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, timeout=20):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.log.close()

    def request(self, method, path, body=None, headers=None, raw=None, timeout=60):
        """(status, headers, parsed JSON or text) of one request; errors are answers too."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, response_headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, response_headers, payload = error.code, error.headers, error.read()
        text = payload.decode()
        if response_headers.get("Content-Type", "").startswith("application/json"):
            return status, response_headers, json.loads(text)
        return status, response_headers, text

    def metrics(self):
        """{series (with labels): value} from /metrics."""
        status, _, text = self.request("GET", "/metrics")
        assert status == 200
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values

    def wait_idle(self, timeout=10):
        """Metrics once no sequence runs and nobody waits (fails after `timeout`)."""
        deadline = time.time() + timeout
        while True:
            values = self.metrics()
            if values["bitnet_batch_size"] == 0 and values["bitnet_queue_depth"] == 0:
                return values
            assert time.time() < deadline, f"sequences still running: {values}"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def server():
    # 16384 positions: more tokens than the loopback socket buffers hold, so a
    # client that does not read really pauses its generation.
    s = Server("--parallel", "2", "--queue", "64", "--ctx", "16384")
    yield s
    assert s.stop() == 0, s.output()
