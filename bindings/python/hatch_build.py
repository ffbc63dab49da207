"""Wheel build hook: packs the libbitnet.so.0 that `make` built into the package.

The package is pure ctypes, but a wheel without the library would import only with
BITNET_LIBRARY set; with it inside, `import bitnet` works anywhere. Because the wheel
then holds native code for one platform, it is tagged py3-none-<platform> (any Python 3:
ctypes needs no ABI of the interpreter), not py3-none-any.
"""

from __future__ import annotations

import importlib.util
import os
import sysconfig
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _forget_own_bytecode() -> None:
    """hatchling imports this file with the standard loader, which has already cached its
    bytecode in __pycache__/ beside it when this runs; remove that, so that a build
    leaves nothing in the source tree."""
    cached = importlib.util.cache_from_source(__file__)
    try:
        os.remove(cached)
        os.rmdir(os.path.dirname(cached))  # only when empty: other caches stay
    except OSError:
        pass


_forget_own_bytecode()


class LibraryHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install runs from the source tree: BITNET_LIBRARY finds the library
        # Relative to this directory (bindings/python), from [tool.hatch.build.targets.wheel.hooks.custom].
        library = os.path.normpath(os.path.join(self.root, self.config["library"]))
        if not os.path.isfile(library):
            raise RuntimeError(
                f"bitnet: {library} does not exist. Run `make` at the repository root first: "
                "the wheel packs the libbitnet.so.0 it builds."
            )
        build_data["force_include"][os.path.realpath(library)] = "bitnet/libbitnet.so.0"
        build_data["pure_python"] = False
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
