"""The shared library seen from Python's ctypes: versions, errors, threads, self-containment."""
import ctypes
import os
import re
import subprocess
import sys
import threading

from conftest import REPO

BITNET_E_INVALID_ARGUMENT = -1


def header_macro(name: str) -> int:
    text = (REPO / "include" / "bitnet.h").read_text()
    return int(re.search(rf"#define {name} (\d+)", text).group(1))


def test_versions_match_header(lib):
    major, minor, patch = (header_macro(f"BITNET_VERSION_{p}") for p in ("MAJOR", "MINOR", "PATCH"))
    assert lib.bitnet_version_string().decode() == f"{major}.{minor}.{patch}"
    assert lib.bitnet_version_number() == major * 10000 + minor * 100 + patch
    assert lib.bitnet_abi_version() == header_macro("BITNET_ABI_VERSION")
    assert b"using " in lib.bitnet_build_info()


def test_status_strings(lib):
    assert lib.bitnet_status_string(0).startswith(b"BITNET_OK")
    assert lib.bitnet_status_string(-3).startswith(b"BITNET_E_FORMAT")
    assert lib.bitnet_status_string(999) == b"unknown status"


def test_invalid_call_returns_status_and_message(lib):
    assert lib.bitnet_set_log_callback(None, None, 99) == BITNET_E_INVALID_ARGUMENT
    assert b"max_level 99" in lib.bitnet_last_error()


def test_last_error_is_per_thread(lib):
    seen = {}

    def worker(level):
        ok = True
        for _ in range(200):
            lib.bitnet_set_log_callback(None, None, level)
            ok &= f"max_level {level} ".encode() in lib.bitnet_last_error()
        seen[level] = ok

    threads = [threading.Thread(target=worker, args=(lvl,)) for lvl in (11, -13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {11: True, -13: True}


def test_log_callback_from_python(lib):
    LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)
    messages = []
    callback = LOG_FN(lambda level, msg, ud: messages.append((level, msg)))
    assert lib.bitnet_set_log_callback(ctypes.cast(callback, ctypes.c_void_p), None, 3) == 0
    lib.bitnet_set_log_callback(None, None, 77)
    assert lib.bitnet_set_log_callback(None, None, 0) == 0
    assert len(messages) == 1 and b"max_level 77" in messages[0][1]


def test_loads_without_swift_toolchain_on_library_path(libpath):
    """A fresh interpreter with an empty LD_LIBRARY_PATH and no toolchain on PATH loads it."""
    code = (
        "import ctypes, sys\n"
        f"lib = ctypes.CDLL({libpath!r})\n"
        "lib.bitnet_version_string.restype = ctypes.c_char_p\n"
        "print(lib.bitnet_version_string().decode())\n"
    )
    env = {"LD_LIBRARY_PATH": "", "PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert re.fullmatch(r"\d+\.\d+\.\d+\n", out.stdout)
    maps = subprocess.run(
        [sys.executable, "-c", code + "print(open('/proc/self/maps').read())"],
        env=env, capture_output=True, text=True, check=True).stdout
    assert "libswiftCore" not in maps
