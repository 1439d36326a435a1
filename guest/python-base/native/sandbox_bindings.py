"""Stand-in for the binding modules componentize-py generates for world `sandbox`.

The cpython-wasi shim runs this file as the module `sandbox` before it loads guest.py, so that
guest.py's `from sandbox import Sandbox` and `from sandbox.types import Err` work unchanged.
Only the surface guest.py uses exists here; the canonical ABI itself lives in cpython-shim.c.
"""

import sys
import types as _module_types

# A package, so that `import sandbox.types` resolves the submodule registered below.
__path__: list = []


class Sandbox:
    """Base class of the guest's implementation of the world's exports (`eval`, `exec`)."""


class Err(Exception):
    """The error case of a WIT `result`; the shim returns `value` as the error string."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


types = _module_types.ModuleType(f"{__name__}.types", "Result types of world `sandbox`.")
types.Err = Err
sys.modules[types.__name__] = types
