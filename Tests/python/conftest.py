"""Shared pytest setup: the built library, the import path for Tests/tools and the golden data.

The library is $BITNET_LIBRARY, else build/lib/libbitnet.so.0.
The golden folder is $BITNET_GOLDEN_DIR, else Tests/Fixtures/golden in the repository.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "Tests" / "Fixtures"
sys.path.insert(0, str(REPO / "Tests" / "tools"))

GOLDEN_DIR = Path(os.environ.get("BITNET_GOLDEN_DIR", FIXTURES / "golden"))
GOLDEN_MODELS = (
    "m1-b158-relu2-i2_s",
    "m1-bitnet-relu2-tq2_0",
    "m1-bitnet-relu2-tq1_0",
    "m1-bitnet-relu2-f16",
    "m2-bitnet-silu-tq2_0",
)


def library_path() -> str:
    path = os.environ.get("BITNET_LIBRARY") or str(REPO / "build" / "lib" / "libbitnet.so.0")
    if not os.path.exists(path):
        pytest.skip(f"libbitnet not built at {path}; run `make` first")
    return path


@pytest.fixture(scope="session")
def libpath() -> str:
    return library_path()


@pytest.fixture(scope="session")
def lib(libpath):
    lib = ctypes.CDLL(libpath)
    lib.bitnet_version_string.restype = ctypes.c_char_p
    lib.bitnet_version_number.restype = ctypes.c_int32
    lib.bitnet_abi_version.restype = ctypes.c_int32
    lib.bitnet_build_info.restype = ctypes.c_char_p
    lib.bitnet_status_string.argtypes = [ctypes.c_int32]
    lib.bitnet_status_string.restype = ctypes.c_char_p
    lib.bitnet_last_error.restype = ctypes.c_char_p
    lib.bitnet_set_log_callback.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32]
    lib.bitnet_set_log_callback.restype = ctypes.c_int32
    return lib


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
