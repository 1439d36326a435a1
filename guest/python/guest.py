"""The Python side of the `sandbox` world (wit/sandbox.wit).

One source for every toolchain: componentize-py generates the binding modules this file
imports, and the cpython-wasi backend's C shim provides a minimal stand-in for them.

Contract:
- `exec(statements)` runs statements against one globals dict that lives as long as the sandbox,
  so definitions persist between calls.
- `eval(expression)` evaluates against the same globals and returns the value as JSON text.
- Every failure, including SystemExit and KeyboardInterrupt, comes back as the error string
  `ExcType: message` (or just `ExcType` when the message is empty); nothing ever escapes as a
  Python exception the toolchain would turn into a trap or a process exit.
"""

import builtins
import functools
import json

# The binding modules' names depend on the componentize-py version: older releases name them
# after the world (`sandbox`, `sandbox.types`), newer ones use `wit_world` and put the result
# types in `componentize_py_types` (or `wit_world.types`).
try:
    from wit_world import WitWorld as _WorldBase
except ImportError:
    from sandbox import Sandbox as _WorldBase

try:
    from componentize_py_types import Err
except ImportError:
    try:
        from wit_world.types import Err
    except ImportError:
        from sandbox.types import Err


def _describe(error: BaseException) -> str:
    """`ExcType: message`, the error format of the contract."""
    name = type(error).__name__
    try:
        message = str(error)
    except BaseException:  # a broken __str__ must not hide the original error
        message = ""
    return f"{name}: {message}" if message else name


# The sandbox's namespace. It lives at module level, not on an instance, because bindings may
# create a new instance of the class for every call; the module lives as long as the sandbox.
_session_globals: dict = {"__name__": "__main__", "__builtins__": builtins}


# json.dumps builds a new encoder on every call that passes options; one shared encoder does not.
# allow_nan=False: NaN and Infinity are not JSON, and every consumer must parse the value.
_encode_fast = json.JSONEncoder(allow_nan=False).encode
_encode_string = json.encoder.encode_basestring_ascii


def _float_text(value: float) -> str:
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("Out of range float values are not JSON compliant: " + repr(value))
    return float.__repr__(value)


def _key_text(key) -> str:
    if isinstance(key, str):
        return key
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _float_text(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _encode_deep(value) -> str:
    """The same text as `_encode_fast`, with a heap stack instead of the C stack.

    The C encoder stops at the interpreter's C recursion limit; a value built in a loop can be
    nested far deeper than that, and its JSON must still come back.
    """
    parts: list = []
    # Work items, last first: ("v", value) to encode, ("s", text) to emit, ("x", id) to leave.
    work: list = [("v", value)]
    open_containers: set = set()
    while work:
        kind, item = work.pop()
        if kind == "s":
            parts.append(item)
            continue
        if kind == "x":
            open_containers.discard(item)
            continue
        if isinstance(item, str):
            parts.append(_encode_string(item))
        elif item is None:
            parts.append("null")
        elif item is True:
            parts.append("true")
        elif item is False:
            parts.append("false")
        elif isinstance(item, int):
            parts.append(int.__repr__(item))
        elif isinstance(item, float):
            parts.append(_float_text(item))
        elif isinstance(item, (list, tuple, dict)):
            if id(item) in open_containers:
                raise ValueError("Circular reference detected")
            open_containers.add(id(item))
            work.append(("x", id(item)))
            if isinstance(item, dict):
                parts.append("{")
                work.append(("s", "}"))
                entries = list(item.items())
                for index in range(len(entries) - 1, -1, -1):
                    key, entry = entries[index]
                    work.append(("v", entry))
                    prefix = ", " if index else ""
                    work.append(("s", prefix + _encode_string(_key_text(key)) + ": "))
            else:
                parts.append("[")
                work.append(("s", "]"))
                for index in range(len(item) - 1, -1, -1):
                    work.append(("v", item[index]))
                    if index:
                        work.append(("s", ", "))
        else:
            raise TypeError(f"Object of type {item.__class__.__name__} is not JSON serializable")
    return "".join(parts)


def _to_json(value) -> str:
    try:
        return _encode_fast(value)
    except RecursionError:
        return _encode_deep(value)


@functools.lru_cache(maxsize=256)
def _compiled_expression(expression: str):
    """Code objects are immutable, so callers that repeat an expression compile it once."""
    return compile(expression, "<string>", "eval")


class _SandboxImpl(_WorldBase):
    """Implements both world exports against the one persistent namespace."""

    def eval(self, expression: str) -> str:
        try:
            return _to_json(eval(_compiled_expression(expression), _session_globals))
        except BaseException as error:  # noqa: BLE001 - the contract turns everything into Err
            raise Err(_describe(error)) from None

    def exec(self, statements: str) -> None:
        try:
            exec(statements, _session_globals)
        except BaseException as error:  # noqa: BLE001
            raise Err(_describe(error)) from None


# componentize-py looks the implementation up by the world's class name: `Sandbox` for the
# versions that name bindings after the world, `WitWorld` for the newer ones.
Sandbox = _SandboxImpl
WitWorld = _SandboxImpl
