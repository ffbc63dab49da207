"""asyncio helper: ``async for chunk in bitnet.astream(ctx, prompt, ...)``."""

from __future__ import annotations

from typing import Any, AsyncIterator, Optional

from .context import Context


def astream(ctx: Context, prompt: Optional[str], *, capacity: int = 16, **sampling: Any) -> AsyncIterator[str]:
    """Streams `prompt`'s continuation without blocking the event loop (see Context.astream).

    Each wait for a chunk runs in the loop's default executor; the library's own thread
    produces the text, and no Python code runs on it.
    """
    return ctx.astream(prompt, capacity=capacity, **sampling)
