"""Finding the library, the ABI check, struct layouts and argtypes."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import PACKAGE_ROOT, REPO, clean_env


def run_python(code: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_imports_with_env_variable(library):
    import bitnet

    assert bitnet.version().count(".") == 2
    assert os.path.samefile(bitnet.library_path(), library)
    assert "kernels" in bitnet.build_info()


def test_every_function_of_the_header_is_declared(library):
    from bitnet import _lib

    header = (REPO / "include" / "bitnet.h").read_text()
    import re

    declared = set(re.findall(r"BITNET_API [^;]*?\b(bitnet_\w+)\(", header))
    assert declared == set(_lib.PROTOTYPES), declared ^ set(_lib.PROTOTYPES)
    for name in declared:
        assert getattr(_lib.lib, name).argtypes is not None, name


def test_struct_layouts_match_the_test_suite_declarations(library):
    """Two independent transcriptions of bitnet.h (Tests/python/capi.py and the package) agree."""
    sys.path.insert(0, str(REPO / "Tests" / "python"))
    try:
        capi = pytest.importorskip("capi")
    finally:
        sys.path.pop(0)
    from bitnet import _lib

    for ours, theirs in [(_lib.ContextParams, capi.ContextParams), (_lib.ContextStats, capi.ContextStats),
                         (_lib.GenerationParams, capi.GenerationParams), (_lib.TokenInfo, capi.TokenInfo),
                         (_lib.GenerationResult, capi.GenerationResult), (_lib.LogitBias, capi.LogitBias)]:
        assert ctypes.sizeof(ours) == ctypes.sizeof(theirs), ours.__name__
        for (name, _), (other, _) in zip(ours._fields_, theirs._fields_):
            assert name == other and getattr(ours, name).offset == getattr(theirs, other).offset, name


# Every ctypes transcription of a public struct, and its C name in bitnet.h.
C_STRUCTS = {
    "ModelParams": "bitnet_model_params", "ModelInfo": "bitnet_model_info",
    "ContextParams": "bitnet_context_params", "ContextStats": "bitnet_context_stats",
    "BatchParams": "bitnet_batch_params", "BatchStats": "bitnet_batch_stats",
    "LogitBias": "bitnet_logit_bias", "GenerationParams": "bitnet_generation_params",
    "TokenInfo": "bitnet_token_info", "GenerationResult": "bitnet_generation_result",
    "ToolCallStruct": "bitnet_tool_call", "ToolCallsStruct": "bitnet_tool_calls",
}


def compiler_layouts(structs: dict[str, type], tmp_path: Path) -> dict[str, int]:
    """sizeof and offsetof of every (C struct, field) that `structs` names, as the C compiler sees bitnet.h."""
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler (cc) to read bitnet.h's struct layouts with")
    lines = []
    for python_name, struct in structs.items():
        c_name = C_STRUCTS[python_name]
        lines.append(f'printf("{c_name} %zu\\n", sizeof({c_name}));')
        for field, *_ in struct._fields_:
            lines.append(f'printf("{c_name}.{field} %zu\\n", offsetof({c_name}, {field}));')
    source = tmp_path / "layouts.c"
    source.write_text("#include <stddef.h>\n#include <stdio.h>\n#include \"bitnet.h\"\n"
                      "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n")
    binary = tmp_path / "layouts"
    built = subprocess.run([compiler, "-std=c11", "-I", str(REPO / "include"), str(source), "-o", str(binary)],
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr  # a field the header does not have fails here, by name
    ran = subprocess.run([str(binary)], capture_output=True, text=True, check=True, timeout=60)
    return {key: int(value) for key, value in (line.split() for line in ran.stdout.splitlines())}


def test_struct_layouts_match_the_header_as_compiled(library, tmp_path):
    """Each transcription has bitnet.h's fields at the C compiler's offsets and its size: so a field added
    to the header (size differs), renamed (does not compile) or retyped (offsets move) fails here."""
    from bitnet import _lib

    structs = {name: getattr(_lib, name) for name in C_STRUCTS}
    sys.path.insert(0, str(REPO / "Tests" / "python"))
    try:
        capi = pytest.importorskip("capi")
    finally:
        sys.path.pop(0)
    suite = {name: getattr(capi, name) for name in C_STRUCTS if hasattr(capi, name)}
    for label, transcription in [("bitnet package", structs), ("Tests/python/capi.py", suite)]:
        layouts = compiler_layouts(transcription, tmp_path)
        for python_name, struct in transcription.items():
            c_name = C_STRUCTS[python_name]
            assert ctypes.sizeof(struct) == layouts[c_name], f"{label}: sizeof {c_name}"
            for field, *_ in struct._fields_:
                assert getattr(struct, field).offset == layouts[f"{c_name}.{field}"], f"{label}: {c_name}.{field}"


def test_library_next_to_the_package_is_found(library, tmp_path):
    copy = tmp_path / "bitnet"
    shutil.copytree(PACKAGE_ROOT / "bitnet", copy, ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    shutil.copy(library, copy / "libbitnet.so.0")
    result = run_python("import bitnet; print(bitnet.library_path())", clean_env(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(copy / "libbitnet.so.0")


def test_missing_library_fails_with_a_clear_message(tmp_path):
    result = run_python("import bitnet", clean_env(BITNET_LIBRARY=str(tmp_path / "nope.so"),
                                                    PYTHONPATH=str(PACKAGE_ROOT)), tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "BITNET_LIBRARY" in result.stderr and "nope.so" in result.stderr


def test_abi_mismatch_fails_at_import(tmp_path):
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        pytest.skip("no C compiler")
    source = tmp_path / "fake.c"
    source.write_text("int bitnet_abi_version(void) { return 99; }\n")
    fake = tmp_path / "libbitnet.so.0"
    subprocess.run([cc, "-shared", "-fPIC", str(source), "-o", str(fake)], check=True)
    result = run_python("import bitnet", clean_env(BITNET_LIBRARY=str(fake), PYTHONPATH=str(PACKAGE_ROOT)), tmp_path)
    assert result.returncode != 0
    assert "ABI version 99" in result.stderr and "needs ABI version 0" in result.stderr
