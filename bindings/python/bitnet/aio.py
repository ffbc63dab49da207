"""asyncio helper: ``async for chunk in bitnet.astream(ctx, prompt, ...)``."""

from __future__ import annotations

from .context import Context

#: ``bitnet.astream(ctx, prompt, *, capacity=16, <generation keywords>)`` streams `prompt`'s
#: continuation without blocking the event loop: each wait for a chunk runs in the loop's
#: default executor, the library's own thread produces the text, and no Python code runs on
#: it. It is Context.astream itself, called with the context first, so it has the same
#: declared keywords (for help() and type checkers) and behaviour.
astream = Context.astream

__all__ = ["astream"]
