"""numba's on-disk cache, made to notice an edit anywhere in this package.

numba keys a cached function on the contents of its own source file only ("Cache invalidation fails
to recognize changes in symbols defined in a different file", numba's caching notes). Our kernels
inline code from other files of this package (activations.py, sweep.py, panels.py,
microkernel.py, ...), so after an edit there, or an upgrade that changes only those files, a
kernel whose own file did not change would load its old machine code, silently. Here each of
numba's locators gets a twin for the files of this directory whose source stamp is a hash of
every .py file in it: any edit recompiles every kernel (once; the cache then holds the new code).
"""
import functools
import hashlib
import os

from numba.core import caching

_HERE = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def package_stamp(directory):
    """sha256 over the names and contents of the .py files in directory (once per process)."""
    digest = hashlib.sha256()
    for name in sorted(f for f in os.listdir(directory) if f.endswith(".py")):
        with open(os.path.join(directory, name), "rb") as f:
            digest.update(name.encode() + b"\0" + f.read() + b"\0")
    return digest.digest()


class _PackageStamp:
    # Mixed in before one of numba's locators: only for this directory's files, stamped as a whole.
    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.dirname(os.path.abspath(py_file)) != _HERE:
            return None
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return package_stamp(_HERE)


def install():
    """Put the twins first, in numba's own order (NUMBA_CACHE_DIR, in tree, user-wide), once."""
    bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator)
    locators = caching.CacheImpl._locator_classes
    if not any(issubclass(c, _PackageStamp) for c in locators):
        locators[:0] = [type("Package" + b.__name__, (_PackageStamp, b), {}) for b in bases]
