"""Shared pytest setup: import path for Tests/tools and the golden data folder.

The golden folder is $BITNET_GOLDEN_DIR, else ../shared/golden beside the repository.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tests" / "tools"))

GOLDEN_DIR = Path(os.environ.get("BITNET_GOLDEN_DIR", REPO.parent / "shared" / "golden"))
GOLDEN_MODELS = (
    "m1-b158-relu2-i2_s",
    "m1-bitnet-relu2-tq2_0",
    "m1-bitnet-relu2-tq1_0",
    "m1-bitnet-relu2-f16",
    "m2-bitnet-silu-tq2_0",
)


@pytest.fixture(scope="session")
def golden() -> Path:
    if not (GOLDEN_DIR / "README.md").exists():
        pytest.skip(f"golden data not found at {GOLDEN_DIR} (set BITNET_GOLDEN_DIR)")
    return GOLDEN_DIR


@pytest.fixture(scope="session")
def make_model():
    """make_model(path, **overrides) -> path: writes a small model (m1 dims by default)."""
    import make_model as mm

    def build(path: Path, **overrides) -> Path:
        values = dict(mm.DEFAULTS)
        values.update(overrides)
        mm.write_model(mm.Config(**values), path)
        return path

    return build
