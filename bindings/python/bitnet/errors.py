"""Exceptions: one BitnetError subclass per negative status code of bitnet.h."""

from __future__ import annotations

from ._lib import lib


class BitnetError(Exception):
    """A libbitnet call failed. `status` is the BITNET_E_* code, `message` the library's text."""

    status: int = 0

    def __init__(self, status: int, message: str):
        super().__init__(status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        name = (lib.bitnet_status_string(self.status) or b"").decode("utf-8", "replace")
        return f"{self.message} ({name})" if self.message else name


class InvalidArgumentError(BitnetError, ValueError):
    """BITNET_E_INVALID_ARGUMENT: an argument is NULL, out of range or inconsistent."""


class BitnetIOError(BitnetError, OSError):
    """BITNET_E_IO: a file could not be opened, read, mapped or written."""

    def __init__(self, status: int, message: str):
        # OSError would read (status, message) as (errno, strerror); keep our own fields.
        BitnetError.__init__(self, status, message)

    def __str__(self) -> str:
        return BitnetError.__str__(self)


class FormatError(BitnetError):
    """BITNET_E_FORMAT: a file is malformed."""


class UnsupportedError(BitnetError):
    """BITNET_E_UNSUPPORTED: well-formed input that this build does not support."""


class OutOfMemoryError(BitnetError, MemoryError):
    """BITNET_E_OUT_OF_MEMORY."""


class ContextFullError(BitnetError):
    """BITNET_E_CONTEXT_FULL: the context has no room for more tokens."""


class BusyError(BitnetError):
    """BITNET_E_BUSY: the object is in use by another thread or an enclosing call."""


class CancelledError(BitnetError):
    """BITNET_E_CANCELLED: interrupted (Context.interrupt) or cancelled."""


class StateMismatchError(BitnetError):
    """BITNET_E_STATE_MISMATCH: saved state of another model, kv type or size."""


class BitnetTimeoutError(BitnetError, TimeoutError):
    """BITNET_E_TIMEOUT."""


class BufferTooSmallError(BitnetError):
    """BITNET_E_BUFFER_TOO_SMALL (the binding retries with a larger buffer; seen only on a bug)."""


class InternalError(BitnetError):
    """BITNET_E_INTERNAL: a bug in the library."""


_BY_STATUS: dict[int, type[BitnetError]] = {
    -1: InvalidArgumentError,
    -2: BitnetIOError,
    -3: FormatError,
    -4: UnsupportedError,
    -5: OutOfMemoryError,
    -6: ContextFullError,
    -7: BusyError,
    -8: CancelledError,
    -9: StateMismatchError,
    -10: BitnetTimeoutError,
    -11: BufferTooSmallError,
    -12: InternalError,
}


def error_for(status: int) -> BitnetError:
    """The exception for a failed call, with this thread's bitnet_last_error() message."""
    message = (lib.bitnet_last_error() or b"").decode("utf-8", "replace")
    return _BY_STATUS.get(status, BitnetError)(status, message)


def check(status: int) -> int:
    """Raises the matching BitnetError for a negative status; returns non-negative ones."""
    if status < 0:
        raise error_for(status)
    return status
