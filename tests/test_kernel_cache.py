"""numba's on-disk cache of the CPU kernels is keyed on every file under kernels/cpu (runtime/cache.py), so a
kernel recompiles when code it inlines from another file changes."""
import importlib
import pkgutil

from numba.core.caching import FunctionCache
from numba.core.registry import CPUDispatcher

from fastrnn.kernels import cpu
from fastrnn.kernels.cpu.runtime import cache


def test_package_stamp_changes_with_any_file(tmp_path):
    (tmp_path / "kernel.py").write_text("def f(): return helper()\n")
    (tmp_path / "helpers.py").write_text("def helper(): return 1\n")
    (tmp_path / "notes.txt").write_text("not code")
    (tmp_path / "cells").mkdir()
    (tmp_path / "cells" / "step.py").write_text("def step(): return 1\n")
    stamps = [cache.package_stamp(str(tmp_path))]
    (tmp_path / "notes.txt").write_text("still not code")
    cache.package_stamp.cache_clear()
    stamps.append(cache.package_stamp(str(tmp_path)))
    (tmp_path / "helpers.py").write_text("def helper(): return 2\n")
    cache.package_stamp.cache_clear()
    stamps.append(cache.package_stamp(str(tmp_path)))
    (tmp_path / "cells" / "step.py").write_text("def step(): return 2\n")    # a file in a subpackage
    cache.package_stamp.cache_clear()
    stamps.append(cache.package_stamp(str(tmp_path)))
    assert stamps[0] == stamps[1] != stamps[2] != stamps[3]


def test_every_cached_kernel_is_stamped_with_the_whole_package():
    kernels = []
    for info in pkgutil.walk_packages(cpu.__path__, cpu.__name__ + "."):
        module = importlib.import_module(info.name)
        kernels += [f for f in vars(module).values()
                    if isinstance(f, CPUDispatcher) and f.__module__ == module.__name__ and isinstance(f._cache, FunctionCache)]
    assert len(kernels) > 30
    for f in kernels:
        locator = f._cache._impl._locator
        assert isinstance(locator, cache._PackageStamp), f"{f.__module__}.{f.__name__}: {type(locator).__name__}"
        assert locator.get_source_stamp() == cache.package_stamp(cache._CPU)
