"""Runs one CPython test module with unittest and returns every test's outcome as data.

The same file runs inside the sandbox (shipped beside guest.py under /app, next to the `test`
package) and under a native CPython, so both sides load, configure and record tests the same way.
"""

import importlib
import os
import sys
import tempfile
import time
import traceback
import types
import unittest

# A failing test's traceback is kept for the report; a long one is cut from the front, since the
# end says what failed.
_DETAIL_LIMIT = 1500

# Packages whose __init__ refuses the whole package on a platform without sockets
# (`support.requires_working_socket(module=True)` in test_asyncio), although most of their tests
# never open one. They are loaded as plain namespaces instead, so each test module runs and the
# tests that do need a socket fail or skip one by one, with their own reasons.
_GATED_PACKAGES = ("test.test_asyncio",)


def _configure_test_support() -> None:
    from test import support

    # As regrtest without -u: tests that need a resource (network, cpu, decimal, ...) skip
    # saying so. Outside regrtest, test.support would otherwise enable every resource.
    support.use_resources = []
    support.verbose = 0
    support.failfast = False


def _load_gated_package(name: str) -> None:
    if name in sys.modules:
        return
    parent_name, _, child = name.rpartition(".")
    parent = importlib.import_module(parent_name)
    directory = os.path.join(os.path.dirname(parent.__file__), child)
    package = types.ModuleType(name)
    package.__path__ = [directory]
    package.__file__ = os.path.join(directory, "__init__.py")
    package.__package__ = name
    sys.modules[name] = package
    setattr(parent, child, package)


class _Recorder(unittest.TestResult):
    """Keeps one outcome per test id: passed, failed, error or skipped (with the reason)."""

    def __init__(self):
        super().__init__()
        self.outcomes = {}

    # When a test reports more than once (its subtests, then itself), the worst outcome stands.
    _RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 2}

    def _record(self, test, outcome, detail=None):
        # A subtest reports under its test's id: the comparison is test by test.
        test_id = getattr(test, "test_case", test).id()
        earlier = self.outcomes.get(test_id)
        if earlier is not None and self._RANK[earlier["outcome"]] >= self._RANK[outcome]:
            return
        entry = {"outcome": outcome}
        if detail:
            entry["detail"] = detail[-_DETAIL_LIMIT:]
        self.outcomes[test_id] = entry

    def _text(self, err, test):
        try:
            return self._exc_info_to_string(err, test)
        except BaseException as error:  # noqa: BLE001 - a broken __str__ must not lose the outcome
            return f"{type(error).__name__} while formatting the error"

    def addSuccess(self, test):
        self._record(test, "passed")

    def addExpectedFailure(self, test, err):
        self._record(test, "passed")

    def addFailure(self, test, err):
        self._record(test, "failed", self._text(err, test))

    def addError(self, test, err):
        self._record(test, "error", self._text(err, test))

    def addUnexpectedSuccess(self, test):
        self._record(test, "failed", "unexpected success")

    def addSkip(self, test, reason):
        self._record(test, "skipped", str(reason))

    def addSubTest(self, test, subtest, err):
        if err is not None:
            kind = "failed" if issubclass(err[0], test.failureException) else "error"
            self._record(test, kind, self._text(err, subtest))


def _matches(test_id, prefixes):
    return any(test_id == p or test_id.startswith(p + ".") for p in prefixes)


def _select(suite, only, exclude):
    """The tests of `suite` within `only` (id prefixes; all when None) and not in `exclude`."""
    selected = unittest.TestSuite()
    for test in _flatten(suite):
        if (only is None or _matches(test.id(), only)) and not _matches(test.id(), exclude or ()):
            selected.addTest(test)
    return selected


def _flatten(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _flatten(test)
        else:
            yield test


def list_tests(module: str) -> list:
    """The ids of the tests `run(module)` would run."""
    _configure_test_support()
    for package in _GATED_PACKAGES:
        if module.startswith(package + "."):
            _load_gated_package(package)
    return [test.id() for test in _flatten(unittest.defaultTestLoader.loadTestsFromName(module))]


def _enter_scratch_directory() -> bool:
    """Works in a new temporary directory, as regrtest does: tests create files (TESTFN) in the
    current directory. False when there is no writable temporary directory (a sandbox without
    /tmp); tests that write files then fail, and the report says they need one."""
    try:
        os.chdir(tempfile.mkdtemp(prefix="conformance-"))
    except OSError:
        return False
    return True


def run(module: str, only=None, exclude=None) -> dict:
    """Runs `module` (a dotted name such as `test.test_zlib`): only the tests whose ids start with
    one of `only` when given, none whose ids start with one of `exclude`.

    Returns {"outcomes": {id: {"outcome", "detail"?}}, "seconds": float, "writableTmp": bool}.
    """
    started = time.monotonic()
    writable_tmp = _enter_scratch_directory()
    _configure_test_support()
    for package in _GATED_PACKAGES:
        if module.startswith(package + "."):
            _load_gated_package(package)
    result = _Recorder()
    try:
        suite = unittest.defaultTestLoader.loadTestsFromName(module)
    except Exception:  # noqa: BLE001 - the import itself failed: one error stands for every test
        result.outcomes[f"import ({module})"] = {
            "outcome": "error",
            "detail": traceback.format_exc()[-_DETAIL_LIMIT:],
        }
        return {"outcomes": result.outcomes, "seconds": round(time.monotonic() - started, 3), "writableTmp": writable_tmp}
    if only is not None or exclude:
        # Flattening runs each test on its own: class and module fixtures still run once per
        # class and module, as unittest's suite runner tracks them across the flat list.
        suite = _select(suite, only, exclude)
    suite.run(result)
    return {
        "outcomes": result.outcomes,
        "seconds": round(time.monotonic() - started, 3),
        "writableTmp": writable_tmp,
    }
