"""sys.stdin reads the text the running call was given (the host's `stdin` call option).

The host serves each call's text on file descriptor 0, then end of file. Python's own stdin
object would keep what it read ahead in one call for the next, so sys.stdin is replaced by one
that starts a fresh reader in every call; `input()` and `sys.stdin.read()` go through it.
The shim runs this module before the guest loads.
"""

import io
import sys

import _sandbox_host


class CallStdin:
    """Reads fd 0 through a reader made for the current call."""

    def __init__(self):
        self._call = None
        self._reader = None

    def _current(self):
        call = _sandbox_host.call_number()
        if self._reader is None or call != self._call:
            self._call = call
            raw = io.FileIO(0, "rb", closefd=False)
            self._reader = io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8", errors="surrogateescape")
        return self._reader

    def __getattr__(self, name):
        return getattr(self._current(), name)

    def __iter__(self):
        return iter(self._current())

    def __next__(self):
        return next(self._current())

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def __repr__(self):
        return "<stdin: the text this call was given>"


sys.stdin = CallStdin()
