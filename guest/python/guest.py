"""The Python side of the `sandbox` world (wit/sandbox.wit).

One source for every toolchain: componentize-py generates the binding modules this file
imports, and the cpython-wasi backend's C shim provides a minimal stand-in for them.

Contract:
- `exec(statements)` runs statements against one globals dict that lives as long as the sandbox,
  so definitions persist between calls.
- `eval(expression)` evaluates against the same globals and returns the value as JSON text.
- Both accept top-level `await` (as IPython and Pyodide do): the code then runs to completion on
  the sandbox's event loop within the call.
- Every failure, including SystemExit and KeyboardInterrupt, comes back as the error string
  `ExcType: message` (or just `ExcType` when the message is empty), followed, when there is a
  traceback to show, by U+001E and the traceback text with this file's frames left out. Nothing
  ever escapes as a Python exception the toolchain would turn into a trap or a process exit.

The guest has no threads, signals or sockets. Where the standard library assumes them, this file
adapts it: an asyncio event loop that needs no self-pipe, `run_in_executor` running the function
inline, and a clear error when code starts a thread.
"""

import ast
import builtins
import functools
import json
import linecache
import sys
import traceback
import weakref

import _thread

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


# ---- errors ------------------------------------------------------------------------------------

# Separates `ExcType: message` from the traceback in an error string. The WIT contract has one
# string for an error; a control character that Python never puts in an exception type name lets
# a host split it without parsing the traceback.
TRACEBACK_SEPARATOR = "\x1e"

# The file names user code is compiled under; a traceback starts at the first frame of one.
EXEC_FILENAME = "<exec>"
EVAL_FILENAME = "<eval>"
_USER_FILENAMES = frozenset((EXEC_FILENAME, EVAL_FILENAME))

# Frames of this file are glue, never the user's business.
_GLUE_FILENAME = (lambda: None).__code__.co_filename

# A host shows the traceback to people and may store it: 1000 frames of mutual recursion (which
# CPython does not fold into "[Previous line repeated N more times]") would be about 100 KiB.
# Past this size, frames in the middle are left out; the innermost ones, where the error is, stay.
_TRACEBACK_BUDGET = 32 * 1024
_TRACEBACK_HEAD_BUDGET = 8 * 1024
# More frames than _bounded can show at either end keep their column positions (see _strip_glue).
_FRAMES_WITH_POSITIONS_HEAD = 100
_FRAMES_WITH_POSITIONS_TAIL = 300
# One frame or message line longer than this (a huge source line or message) is cut.
_CHUNK_LIMIT = 4 * 1024


def _describe(error: BaseException) -> str:
    """`ExcType: message`, the error format of the contract."""
    name = type(error).__name__
    try:
        message = str(error)
    except BaseException:  # a broken __str__ must not hide the original error
        message = ""
    return f"{name}: {message}" if message else name


def _strip_glue(summary: traceback.TracebackException, outermost: bool, seen: set) -> None:
    """Leaves this file's frames out of `summary` and of every exception chained to it.

    In the outermost exception everything before the first frame of user code goes too: that is
    how the call reached the user's code (this file, and asyncio's machinery for top-level
    await), not part of what went wrong. When no frame is the user's (a SyntaxError, a value
    with no JSON form), no frame is left.
    """
    if id(summary) in seen:
        return
    seen.add(id(summary))
    frames = [frame for frame in summary.stack if frame.filename != _GLUE_FILENAME]
    if outermost:
        first_user = next((i for i, f in enumerate(frames) if f.filename in _USER_FILENAMES), len(frames))
        frames = frames[first_user:]
    # Positions let CPython underline the failing expression, which parses each frame's line:
    # seconds for thousands of recursive frames. Frames that _bounded will leave out anyway
    # (all but the outermost and innermost ones) lose their positions so they format cheaply.
    for frame in frames[_FRAMES_WITH_POSITIONS_HEAD : max(_FRAMES_WITH_POSITIONS_HEAD, len(frames) - _FRAMES_WITH_POSITIONS_TAIL)]:
        frame.colno = frame.end_colno = None
    summary.stack = traceback.StackSummary.from_list(frames)
    for chained in (summary.__cause__, summary.__context__, *(summary.exceptions or ())):
        if chained is not None:
            _strip_glue(chained, False, seen)


def _bounded(chunks: list) -> str:
    """Joins traceback chunks (one per frame or message), dropping middle ones past the budget."""
    chunks = [c if len(c) <= _CHUNK_LIMIT else c[:_CHUNK_LIMIT] + "...\n" for c in chunks]
    if sum(map(len, chunks)) <= _TRACEBACK_BUDGET:
        return "".join(chunks)
    head: list = []
    size = 0
    for chunk in chunks:
        if size + len(chunk) > _TRACEBACK_HEAD_BUDGET:
            break
        head.append(chunk)
        size += len(chunk)
    tail: list = []
    size = 0
    for chunk in reversed(chunks[len(head) :]):
        if size + len(chunk) > _TRACEBACK_BUDGET - _TRACEBACK_HEAD_BUDGET:
            break
        tail.append(chunk)
        size += len(chunk)
    tail.reverse()
    omitted = len(chunks) - len(head) - len(tail)
    return "".join(head) + f"  [... {omitted} more frames not shown ...]\n" + "".join(tail)


def _traceback_text(error: BaseException) -> str:
    """The traceback as CPython prints it, without glue frames; empty when there is nothing to add
    to `ExcType: message` (no frame, no note, no chained exception)."""
    summary = traceback.TracebackException.from_exception(error)
    _strip_glue(summary, True, set())
    if (
        not summary.stack
        and summary.__cause__ is None
        and (summary.__context__ is None or summary.__suppress_context__)
        and not summary.exceptions
        and not getattr(summary, "__notes__", None)
        and not isinstance(error, SyntaxError)
    ):
        return ""
    return _bounded(list(summary.format())).rstrip("\n")


def _error_text(error: BaseException) -> str:
    """The contract's error string: `ExcType: message`, then U+001E and the traceback if any."""
    described = _describe(error)
    try:
        text = _traceback_text(error)
    except BaseException:  # noqa: BLE001 - e.g. MemoryError: the short form must still get out
        return described
    return f"{described}{TRACEBACK_SEPARATOR}{text}" if text else described


# ---- source lines for tracebacks ---------------------------------------------------------------

# Every exec call's code is compiled as "<exec>", so linecache cannot find its lines by file
# name. CPython 3.13's REPL solves the same problem with linecache._interactive_cache, keyed by
# code object (file name, qualified name, first line); FrameSummary reads it for "<...>" files,
# and so does inspect.getsource. The entries are ours to remove: each goes when the last code
# object compiled from that source is garbage, so a long session does not keep every source.
_interactive_cache = getattr(linecache, "_interactive_cache", None)
_code_key = getattr(linecache, "_make_key", None)


def _forget_source(key, entry) -> None:
    if _interactive_cache is not None and _interactive_cache.get(key) is entry:
        del _interactive_cache[key]


def _source_entries(code, source: str):
    """(key, entry) for `code` and every code object nested in it, all with `source`'s lines."""
    if _interactive_cache is None or _code_key is None:
        return []
    entry = (len(source), None, [line + "\n" for line in source.splitlines()], code.co_filename)
    pairs = []
    stack = [code]
    while stack:
        code = stack.pop()
        stack.extend(const for const in code.co_consts if isinstance(const, type(code)))
        pairs.append((code, _code_key(code), entry))
    return pairs


def _remember_source(code, source: str) -> None:
    """Registers `source` as the lines of `code` for as long as each code object lives."""
    for each, key, entry in _source_entries(code, source):
        _interactive_cache[key] = entry
        weakref.finalize(each, _forget_source, key, entry)


def _show_source(code, source: str) -> list:
    """Registers `source` for `code` until `_hide_source`; returns what it replaced."""
    shown = []
    for _, key, entry in _source_entries(code, source):
        shown.append((key, _interactive_cache.get(key)))
        _interactive_cache[key] = entry
    return shown


def _hide_source(shown: list) -> None:
    for key, previous in reversed(shown):
        if previous is None:
            _interactive_cache.pop(key, None)
        else:
            _interactive_cache[key] = previous


# ---- threads -----------------------------------------------------------------------------------


def _no_threads(*args, **kwargs):
    # CPython's own message, and why: `threading.Thread.start`, `concurrent.futures` and
    # everything else that starts a thread raise this instead of hanging or crashing.
    raise RuntimeError("can't start new thread: threads are not available in the sandbox")


# `threading` binds these when it is imported, which happens after this (it is not preloaded).
for _name in ("start_new_thread", "start_new", "start_joinable_thread"):
    if hasattr(_thread, _name):
        setattr(_thread, _name, _no_threads)
if "threading" in sys.modules:  # a toolchain that preloads it
    sys.modules["threading"]._start_joinable_thread = _no_threads
    sys.modules["threading"]._start_new_thread = _no_threads


# ---- asyncio -----------------------------------------------------------------------------------

# asyncio costs about 2.5 MiB and 150 ms to import, so it is not in the snapshot: the event loop
# is installed when user code first imports asyncio (or uses top-level await).


def _install_event_loop(asyncio) -> None:
    """Makes every event loop asyncio creates one that works without threads, signals or sockets.

    The stock loop opens a socket pair at creation (its "self-pipe", which lets other threads and
    signal handlers wake it); WASI has no socketpair, so `asyncio.run()` failed with OSError 58.
    Here nothing but the loop itself can schedule work, so it needs no waking: the loop below
    has no self-pipe, and the selector waits on timers alone.
    """
    import concurrent.futures
    import selectors

    class SandboxSelector(selectors.DefaultSelector):
        def select(self, timeout=None):
            # Nothing registered and no timer: no thread, signal or socket can ever wake the
            # loop, so waiting would hang until the call's time limit. Fail now instead.
            if timeout is None and not self.get_map():
                raise RuntimeError(
                    "the event loop would wait forever: every task is waiting and nothing is "
                    "scheduled to wake one (the sandbox has no threads, signals or sockets)"
                )
            return super().select(timeout)

    class InlineExecutor(concurrent.futures.Executor):
        """`run_in_executor`/`asyncio.to_thread` without threads: runs the function at once."""

        def submit(self, fn, /, *args, **kwargs):
            future = concurrent.futures.Future()
            future.set_running_or_notify_cancel()
            try:
                result = fn(*args, **kwargs)
            except Exception as error:  # noqa: BLE001 - the future carries it, as a thread's would
                future.set_exception(error)
            else:
                future.set_result(result)
            return future

    class SandboxEventLoop(asyncio.SelectorEventLoop):
        def __init__(self, selector=None):
            super().__init__(selector if selector is not None else SandboxSelector())
            self._default_executor = InlineExecutor()

        def _make_self_pipe(self):
            pass

        def _close_self_pipe(self):
            pass

        def _write_to_self(self):
            # call_soon_threadsafe from the only thread there is: the callback is queued and the
            # loop, which is running or about to, picks it up.
            pass

        def add_signal_handler(self, sig, callback, *args):
            raise NotImplementedError("signal handlers are not available in the sandbox")

        async def shutdown_default_executor(self, timeout=None):
            # The stock version joins the executor from a new thread.
            self._executor_shutdown_called = True
            if self._default_executor is not None:
                self._default_executor.shutdown(wait=True)

    class SandboxEventLoopPolicy(asyncio.DefaultEventLoopPolicy):
        _loop_factory = SandboxEventLoop

    # The public names, so that `asyncio.SelectorEventLoop()`, `asyncio.EventLoop()` and a policy
    # reset with `set_event_loop_policy(None)` (which builds a new DefaultEventLoopPolicy) all
    # give this loop too.
    for module in (asyncio, asyncio.unix_events):
        module.SelectorEventLoop = SandboxEventLoop
        module.EventLoop = SandboxEventLoop
        module.DefaultEventLoopPolicy = SandboxEventLoopPolicy
    asyncio.set_event_loop_policy(SandboxEventLoopPolicy())


class _AsyncioHook:
    """A meta path finder that installs the sandbox's event loop right after asyncio loads."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name != "asyncio":
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _AsyncioLoader(spec.loader)
        return spec


class _AsyncioLoader:
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _install_event_loop(module)

    def __getattr__(self, name):  # get_resource_reader, is_package, ...
        return getattr(self._loader, name)


if "asyncio" in sys.modules:  # a toolchain that preloads it
    _install_event_loop(sys.modules["asyncio"])
else:
    sys.meta_path.insert(0, _AsyncioHook())


# The loop that top-level await runs on. It lives as long as the sandbox, as IPython's does, so
# that asyncio objects made in one call (locks, queues, tasks) still work in the next; between
# calls it does not run.
_top_level_loop = None


def _run_to_completion(coroutine):
    global _top_level_loop
    import asyncio

    if _top_level_loop is None or _top_level_loop.is_closed():
        _top_level_loop = asyncio.new_event_loop()
    task = _top_level_loop.create_task(coroutine)
    try:
        return _top_level_loop.run_until_complete(task)
    finally:
        # Stopped from outside (an interrupt at the time limit, a loop that would wait forever):
        # the user's code must not resume in a later call.
        if not task.done():
            task.cancel()


# ---- JSON ----------------------------------------------------------------------------------------

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
        pass
    # Outside the except block, so an error of the deep encoder is not chained to the
    # RecursionError (its traceback would show it as "During handling of the above exception").
    return _encode_deep(value)


# ---- the exports ---------------------------------------------------------------------------------

# The sandbox's namespace. It lives at module level, not on an instance, because bindings may
# create a new instance of the class for every call; the module lives as long as the sandbox.
_session_globals: dict = {"__name__": "__main__", "__builtins__": builtins}

# Host functions become globals of the session (world sandbox-extended; the base's `host` module).
try:
    import host as _host
except ImportError:  # a toolchain without the host interface: no host functions
    _host = None
else:
    _host._bind_session(_session_globals)


# ---- cells ----------------------------------------------------------------------------------------


def _ends_with_semicolon(code: str, node: ast.stmt) -> bool:
    """True when `;` follows the statement on its last line (IPython's "quiet" cell)."""
    lines = code.splitlines()
    if node.end_lineno is None or node.end_lineno > len(lines):
        return False
    # Column offsets count UTF-8 bytes.
    rest = lines[node.end_lineno - 1].encode("utf-8")[node.end_col_offset :].decode("utf-8", "replace")
    return rest.lstrip().startswith(";")


def _split_cell(code: str, filename: str, flags: int = 0):
    """A cell (IPython's rule) as (statements, expression) code objects: the code before its last
    statement and, when that statement is an expression not followed by `;`, the expression on
    its own (None otherwise). `run` executes the one and evaluates the other."""
    tree = compile(code, filename, "exec", flags=flags | ast.PyCF_ONLY_AST, dont_inherit=True)
    last = tree.body[-1] if tree.body else None
    if not isinstance(last, ast.Expr) or _ends_with_semicolon(code, last):
        return compile(tree, filename, "exec", flags=flags, dont_inherit=True), None
    statements = ast.Module(body=tree.body[:-1], type_ignores=tree.type_ignores)
    expression = ast.Expression(body=last.value)
    return (
        compile(statements, filename, "exec", flags=flags, dont_inherit=True),
        compile(expression, filename, "eval", flags=flags, dont_inherit=True),
    )


# Top-level await (and `async for`/`async with` at top level) compiles to a coroutine code object.
_COMPILE_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect


@functools.lru_cache(maxsize=256)
def _compiled_expression(expression: str):
    """Code objects are immutable, so callers that repeat an expression compile it once."""
    return compile(expression, EVAL_FILENAME, "eval", flags=_COMPILE_FLAGS, dont_inherit=True)


def _run(code):
    result = eval(code, _session_globals)
    if code.co_flags & _CO_COROUTINE:
        result = _run_to_completion(result)
    return result


class _SandboxImpl(_WorldBase):
    """Implements the world's exports against the one persistent namespace."""

    def eval(self, expression: str) -> str:
        code = None
        try:
            code = _compiled_expression(expression)
            value = _run(code)
        except BaseException as error:  # noqa: BLE001 - the contract turns everything into Err
            # Every expression is "<eval>" line 1 and compiled code is reused, so its lines are
            # shown only while this error is formatted.
            shown = _show_source(code, expression) if code is not None else []
            try:
                text = _error_text(error)
            finally:
                _hide_source(shown)
            raise Err(text) from None
        try:
            return _to_json(value)
        except BaseException as error:  # noqa: BLE001
            raise Err(_error_text(error)) from None

    def exec(self, statements: str) -> None:
        try:
            code = compile(statements, EXEC_FILENAME, "exec", flags=_COMPILE_FLAGS, dont_inherit=True)
            # Functions defined here may fail in a later call: their lines must stay findable.
            _remember_source(code, statements)
            _run(code)
        except BaseException as error:  # noqa: BLE001
            raise Err(_error_text(error)) from None

    def run(self, code: str):
        """A cell (world sandbox-extended): the JSON of its last expression's value, or None."""
        try:
            statements, expression = _split_cell(code, EXEC_FILENAME, _COMPILE_FLAGS)
            for part in (statements, expression):
                if part is not None:
                    _remember_source(part, code)
            _run(statements)
            value = None if expression is None else _run(expression)
        except BaseException as error:  # noqa: BLE001
            raise Err(_error_text(error)) from None
        if value is None:
            return None
        try:
            return _to_json(value)
        except BaseException as error:  # noqa: BLE001
            raise Err(_error_text(error)) from None


# componentize-py looks the implementation up by the world's class name: `Sandbox` for the
# versions that name bindings after the world, `WitWorld` for the newer ones.
Sandbox = _SandboxImpl
WitWorld = _SandboxImpl
