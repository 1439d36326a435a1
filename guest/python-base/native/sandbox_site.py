"""Where a sandboxed program's files are. Run by the shim before the guest module loads, so
every Python guest built on this base gets it, whatever its guest.py does.

- The working directory is the writable scratch directory, so relative paths
  (`open('out.csv', 'w')`) work, as in a notebook's home directory.
- Packages: those the build baked in (`component-sandbox-build --packages DIR`, shipped at
  /app/site-packages) and those the host mounts at run time (/packages) are importable; the
  build's `--preload` modules are imported now, into the snapshot, so they import instantly.
- A module that exists only as a compiled C extension fails with an ImportError that says so,
  instead of a bare "No module named ...".
"""

import os
import sys

SCRATCH = "/tmp"
APP = "/app"
BAKED_PACKAGES = APP + "/site-packages"
MOUNTED_PACKAGES = "/packages"
PRELOAD_LIST = APP + "/preload.txt"

if os.path.isdir(SCRATCH):
    os.chdir(SCRATCH)

for _path in (BAKED_PACKAGES, MOUNTED_PACKAGES):
    # The mounted directory is added even though it is empty now: the host mounts it later.
    if _path not in sys.path and (_path == MOUNTED_PACKAGES or os.path.isdir(_path)):
        sys.path.append(_path)

_EXTENSION_ENDINGS = (".so", ".pyd", ".dylib")
_PACKAGE_ROOTS = (BAKED_PACKAGES, MOUNTED_PACKAGES, APP)


class CExtensionFinder:
    """Last on sys.meta_path, so it only runs once every other finder has failed."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        tail = fullname.rpartition(".")[2]
        for directory in path if path is not None else sys.path:
            # Only user packages: failed optional imports in the stdlib stay cheap.
            if not isinstance(directory, str) or not directory.startswith(_PACKAGE_ROOTS):
                continue
            try:
                names = os.listdir(directory)
            except OSError:
                continue
            for name in names:
                if name.startswith(tail + ".") and name.endswith(_EXTENSION_ENDINGS):
                    raise ImportError(
                        f"{fullname} is a compiled C extension ({directory}/{name}); "
                        "the sandbox can import pure-Python packages only",
                        name=fullname,
                    )
        return None

    @classmethod
    def invalidate_caches(cls):
        pass


sys.meta_path.append(CExtensionFinder)

if os.path.isfile(PRELOAD_LIST):
    with open(PRELOAD_LIST, encoding="utf-8") as _names:
        for _name in _names.read().split():
            __import__(_name)
