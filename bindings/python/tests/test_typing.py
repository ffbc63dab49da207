"""Static typing: mypy --strict passes on the package, and catches a misspelt generation
keyword or a bytes prompt in user code (the keywords are declared, not **kwargs)."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import PACKAGE_ROOT, clean_env

pytest.importorskip("mypy", reason="`make deps-pip` installs mypy")

CORRECT = """
    import asyncio
    import bitnet

    def use(ctx: bitnet.Context) -> None:
        text: str = ctx.generate("Hi", temperature=0.0, max_new_tokens=3, stop=["\\n"], seed=None, preset="fast")
        for chunk in ctx.stream("Hi", capacity=4, top_k=40, logit_bias={1: -1.0}):
            print(chunk)
        ctx.run("Hi", lambda text, info: bitnet.Action.PAUSE, progress=lambda done, total: None)
        ctx.chat([{"role": "user", "content": "Hi"}], template="bitnet", max_new_tokens=8)
        print(text, ctx.model.info.n_vocab, ctx.last_result)

    async def use_async(ctx: bitnet.Context) -> None:
        async for chunk in ctx.astream("Hi", max_new_tokens=3):
            print(chunk)
        async for chunk in bitnet.astream(ctx, "Hi", repetition_penalty=1.1):
            print(chunk)
"""

WRONG = """
    import bitnet

    def use(ctx: bitnet.Context) -> None:
        ctx.generate("Hi", max_new_token=3)
        ctx.stream("Hi", temprature=0.5)
        ctx.astream("Hi", topk=3)
        bitnet.astream(ctx, "Hi", seeds=1)
        ctx.run("Hi", print, stops=["x"])
        ctx.chat([("user", "Hi")], ignore_eo=True)
        ctx.generate(b"Hi")
        ctx.model.info()
"""


@pytest.fixture(scope="module")
def mypy(tmp_path_factory):
    """Runs mypy --strict on paths, with its cache in a temporary directory (not the source tree)."""
    cache = tmp_path_factory.mktemp("mypy-cache")

    def run(*paths: Path) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(cache),
                   *map(str, paths)]
        return subprocess.run(command, cwd=cache, env=clean_env(MYPYPATH=str(PACKAGE_ROOT)), capture_output=True,
                              text=True, timeout=300)

    return run


def test_the_package_passes_mypy_strict(mypy):
    result = mypy(PACKAGE_ROOT / "bitnet")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_accepts_correct_use_and_reports_each_mistake(mypy, tmp_path):
    correct = tmp_path / "correct.py"
    correct.write_text(textwrap.dedent(CORRECT))
    result = mypy(correct)
    assert result.returncode == 0, result.stdout + result.stderr

    wrong = tmp_path / "wrong.py"
    wrong.write_text(textwrap.dedent(WRONG))
    result = mypy(wrong)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = {int(m.group(1)): m.group(2) for m in re.finditer(r"wrong\.py:(\d+): error: (.*)", result.stdout)}
    expected = {
        5: 'Unexpected keyword argument "max_new_token"',
        6: 'Unexpected keyword argument "temprature"',
        7: 'Unexpected keyword argument "topk"',
        8: 'Unexpected keyword argument "seeds"',
        9: 'Unexpected keyword argument "stops"',
        10: 'Unexpected keyword argument "ignore_eo"',
        11: 'incompatible type "bytes"',
        12: 'not callable',
    }
    for line, text in expected.items():
        assert text in errors.get(line, ""), (line, text, result.stdout)
