"""numba's on-disk cache, made to notice an edit anywhere in this package.

numba keys a cached function on the contents of its own source file only ("Cache invalidation fails
to recognize changes in symbols defined in a different file", numba's caching notes). Our kernels
inline code from other files of kernels/cpu/ (cells/activations.py, sweep.py, products/panels.py,
...), so after an edit there, or an upgrade that changes only those files, a kernel whose own file
did not change would load its old machine code, silently. Here each of numba's locators gets a twin
for the files under kernels/cpu/ whose source stamp is a hash of every .py file there: any edit
recompiles every kernel (once; the cache then holds the new code).
"""
import functools
import hashlib
import os

from numba.core import caching

_CPU = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))    # kernels/cpu/


@functools.lru_cache(maxsize=None)
def package_stamp(directory):
    """sha256 over the relative paths and contents of the .py files under directory (once per
    process)."""
    digest = hashlib.sha256()
    for path in sorted(_sources(directory)):
        with open(os.path.join(directory, path), "rb") as f:
            digest.update(path.encode() + b"\0" + f.read() + b"\0")
    return digest.digest()


def _sources(directory):
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                yield os.path.relpath(os.path.join(root, name), directory)


def _inside(path, directory):
    return os.path.commonpath([os.path.abspath(path), directory]) == directory


class _PackageStamp:
    # Mixed in before one of numba's locators: only for the files under kernels/cpu/, stamped as a whole.
    @classmethod
    def from_function(cls, py_func, py_file):
        if not _inside(py_file, _CPU):
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return package_stamp(_CPU)


def install():
    """Put the twins first, in numba's own order (NUMBA_CACHE_DIR, in tree, user-wide), once."""
    bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator)
    locators = caching.CacheImpl._locator_classes
    if not any(issubclass(c, _PackageStamp) for c in locators):
        locators[:0] = [type("Package" + b.__name__, (_PackageStamp, b), {}) for b in bases]
