"""Exceptions: one BitnetError subclass per negative status code of bitnet.h."""

from __future__ import annotations

import errno
import os
from typing import Optional, Union

from ._lib import lib

PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

#: strerror text -> errno, for reading the reason out of the library's I/O messages.
#: Reversed so that of two codes with one text (EAGAIN, EWOULDBLOCK) the smaller wins.
_ERRNO_BY_TEXT = {os.strerror(code): code for code in sorted(errno.errorcode, reverse=True)}


def errno_in(message: str) -> Optional[int]:
    """The errno whose strerror() text ends `message`, or None. The library reports a failed
    system call as "...: <strerror(errno)>" (strerror of this process's libc, so the text
    maps back exactly); failures without a system error (a directory given as a model) have none."""
    return _ERRNO_BY_TEXT.get(message.rpartition(": ")[2])


class BitnetError(Exception):
    """A libbitnet call failed. `status` is the BITNET_E_* code, `message` the library's text.

    The subclasses that are also OSError (BitnetIOError, BitnetTimeoutError) carry `errno`
    (the system error the library met, or None), `strerror` and `filename` (the path the
    failed call was given, or None) like any OSError."""

    status: int = 0

    def __init__(self, status: int, message: str, filename: Optional[PathArg] = None):
        # Not OSError.__init__ (for the OSError subclasses): it would read (status, message)
        # as (errno, strerror). `filename` matters only to those (see _BitnetOSError).
        Exception.__init__(self, status, message)
        self.status = status
        self.message = message

    def __str__(self) -> str:
        name = (lib.bitnet_status_string(self.status) or b"").decode("utf-8", "replace")
        return f"{self.message} ({name})" if self.message else name


class InvalidArgumentError(BitnetError, ValueError):
    """BITNET_E_INVALID_ARGUMENT: an argument is NULL, out of range or inconsistent."""


class _BitnetOSError(BitnetError, OSError):
    """A BitnetError that is also an OSError, with the OSError fields filled in."""

    def __init__(self, status: int, message: str, filename: Optional[PathArg] = None):
        BitnetError.__init__(self, status, message)
        code = errno_in(message)
        self.errno = code
        self.strerror = os.strerror(code) if code is not None else message
        self.filename = os.fspath(filename) if filename is not None else None

    def __str__(self) -> str:
        return BitnetError.__str__(self)


class BitnetIOError(_BitnetOSError):
    """BITNET_E_IO: a file could not be opened, read, mapped or written."""


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


class BitnetTimeoutError(_BitnetOSError, TimeoutError):
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


def error_for(status: int, filename: Optional[PathArg] = None) -> BitnetError:
    """The exception for a failed call, with this thread's bitnet_last_error() message;
    `filename` is the path the call was given (kept by the OSError subclasses)."""
    message = (lib.bitnet_last_error() or b"").decode("utf-8", "replace")
    return _BY_STATUS.get(status, BitnetError)(status, message, filename)


def check(status: int, filename: Optional[PathArg] = None) -> int:
    """Raises the matching BitnetError for a negative status; returns non-negative ones."""
    if status < 0:
        raise error_for(status, filename)
    return status
