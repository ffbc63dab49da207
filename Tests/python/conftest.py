"""Shared fixtures: the built library and the repository's folders."""
import ctypes
import os
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"


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
