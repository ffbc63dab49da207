"""Fixtures for the bitnet package tests: a generated model and the repository's tools.

Run with BITNET_LIBRARY set (make test-bindings does), e.g.
    BITNET_LIBRARY=build/lib/libbitnet.so.0 python -m pytest bindings/python/tests
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PACKAGE_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PACKAGE_ROOT))  # the package under test, even when not pip-installed
sys.path.insert(0, str(REPO / "Tests" / "tools"))  # make_model.py


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without BITNET_LIBRARY and PYTHONPATH, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("BITNET_LIBRARY", "PYTHONPATH")}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def library() -> str:
    path = os.environ.get("BITNET_LIBRARY") or str(REPO / "build" / "lib" / "libbitnet.so.0")
    if not os.path.exists(path):
        pytest.skip(f"libbitnet not built at {path}; run `make` first")
    os.environ["BITNET_LIBRARY"] = path
    return path


@pytest.fixture(scope="session")
def model_path(tmp_path_factory, library) -> Path:
    """A small generated model (m1 dimensions, 512-token byte-level BPE vocabulary)."""
    import make_model as mm

    path = tmp_path_factory.mktemp("models") / "m1.gguf"
    mm.write_model(mm.Config(**mm.DEFAULTS), path)
    return path


@pytest.fixture()
def ctx(model_path):
    import bitnet

    with bitnet.Model(model_path) as model, bitnet.Context(model, n_ctx=256, n_threads=1) as context:
        yield context
