"""The package as pip builds it: a platform wheel that carries libbitnet.so.0, imports with no
BITNET_LIBRARY from any directory, and a build that leaves nothing in the source tree."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from conftest import PACKAGE_ROOT, REPO, clean_env

GOLDEN = REPO / "Tests" / "Fixtures" / "golden" / "m1-b158-relu2-i2_s.gguf"

# Greedy, a few tokens, from the golden model: the same text whichever copy of the library runs it.
GENERATE = textwrap.dedent(
    """
    import sys, bitnet
    with bitnet.Model(sys.argv[1]) as model, bitnet.Context(model, n_ctx=64, n_threads=1) as ctx:
        text = ctx.generate("Hello", temperature=0, max_new_tokens=4, ignore_eos=True)
        assert ctx.last_result.n_generated == 4, ctx.last_result
    print(bitnet.library_path())
    print(repr(text))
    """
)


def pip(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("hatchling", reason="the build backend; `make deps-pip` installs it")
    # No build isolation: the test must not need the network (hatchling is installed instead).
    # Bytecode writing on, as for users: a .pyc of the build hook must not stay behind either.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def source_tree_files() -> list[str]:
    """Untracked and ignored files under bindings/python, as git sees them."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "--", "bindings/python"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )
    return sorted(line for line in result.stdout.splitlines() if line[:2] in ("??", "!!"))


@pytest.fixture(scope="module")
def wheel(library, tmp_path_factory) -> Path:
    """The wheel built from bindings/python, checking that the build left nothing behind."""
    before = source_tree_files()
    out = tmp_path_factory.mktemp("wheel")
    built = pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(PACKAGE_ROOT), cwd=out)
    assert built.returncode == 0, built.stdout + built.stderr
    assert source_tree_files() == before, "the wheel build left files in bindings/python"
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_is_platform_tagged_and_carries_the_library(wheel):
    name, version, python_tag, abi_tag, platform_tag = wheel.stem.split("-")
    assert (name, python_tag, abi_tag) == ("bitnet", "py3", "none")
    assert platform_tag != "any" and platform_tag.startswith("linux_"), platform_tag
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "bitnet/libbitnet.so.0" in names and "bitnet/py.typed" in names
        # The library `make` built (the hook's source), whichever copy BITNET_LIBRARY names.
        assert archive.read("bitnet/libbitnet.so.0") == (REPO / "build" / "lib" / "libbitnet.so.0").read_bytes()
        metadata = archive.read(f"bitnet-{version}.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in metadata  # installed to platlib: native code inside
    assert not any(n.startswith("tests/") or n.endswith("hatch_build.py") for n in names), names


def test_the_installed_wheel_imports_and_generates_without_bitnet_library(wheel, library, tmp_path):
    site = tmp_path / "site"
    installed = pip("install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    env = clean_env(PYTHONPATH=str(site))  # no BITNET_LIBRARY; only the installed package on the path
    result = subprocess.run([sys.executable, "-c", GENERATE, str(GOLDEN)], env=env, cwd="/tmp",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    path, text = result.stdout.splitlines()
    assert path == str(site / "bitnet" / "libbitnet.so.0")
    # The same generation through the source package and the library `make` built.
    reference = subprocess.run([sys.executable, "-c", GENERATE, str(GOLDEN)],
                               env=clean_env(BITNET_LIBRARY=library, PYTHONPATH=str(PACKAGE_ROOT)), cwd="/tmp",
                               capture_output=True, text=True, timeout=120)
    assert reference.returncode == 0, reference.stderr
    assert text == reference.stdout.splitlines()[1] and len(ast.literal_eval(text)) > 0


def test_building_without_the_library_fails_naming_make(tmp_path):
    # A copy of the package outside the repository: ../../build/lib/libbitnet.so.0 is not there.
    copy = tmp_path / "src" / "python"
    shutil.copytree(PACKAGE_ROOT, copy, ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    result = pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(tmp_path / "out"), str(copy),
                 cwd=tmp_path)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "libbitnet.so.0 does not exist" in output and "Run `make`" in output, output
    assert not list(tmp_path.glob("**/*.whl"))
