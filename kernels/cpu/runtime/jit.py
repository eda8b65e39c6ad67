"""The decorators every CPU kernel is compiled with.

error_model="numpy": float division without numba's ZeroDivisionError check, which would
otherwise put a branch with an exception exit into every gate loop and stop vectorisation
(kernels/TUNING.md: a sigmoid + tanh loop over 15 times slower with the check).
cache=True: compiled kernels are reused across processes (first compile is seconds); an edit in
any file of this package recompiles them all (cache.py).
nogil=True: the team's threads (team.py) run kernels side by side.
"""
from numba import njit

from . import cache

cache.install()     # before any kernel is decorated: cache=True picks its locator then

kernel = njit(error_model="numpy", cache=True, nogil=True)

# Small helpers of the sweeps' per-step code (sweep.py: active, units4), inlined by numba: as
# calls, each passes its arrays as many arguments and returns an error status the caller must
# test, and a step made such calls per sequence.
inline_kernel = njit(error_model="numpy", cache=True, nogil=True, inline="always")

# For dot-product loops only: "reassoc" lets LLVM split a sum over k into vector lanes (without
# it a float reduction stays scalar), "contract" lets it use FMA. No nnan/ninf/nsz, so NaN and
# inf propagate exactly as in IEEE arithmetic.
reduction_kernel = njit(error_model="numpy", cache=True, nogil=True, fastmath={"reassoc", "contract"})

# The register blocks of a reduction_kernel (products/in_place.py), inlined into it by numba: called as
# functions, the call (numba passes each array as several arguments) cost as much as a block's
# 16 vector steps at K=128 (kernels/TUNING.md).
reduction_block = njit(error_model="numpy", cache=True, nogil=True, fastmath={"reassoc", "contract"},
                       inline="always")

# The team's parallel loop (launch.py): one prange over the members, each calling a `kernel` by
# its address, and nothing else, so numba's parallel transforms have nothing else to rewrite.
team_kernel = njit(error_model="numpy", cache=True, nogil=True, parallel=True)

# The sweep skeleton (sweep.py), which takes the cell's step as its first argument: inlined into
# each cell's sweep kernel, and cached there, so never cached on its own (a function argument's
# type would key its cache entries on the process it was compiled in).
skeleton = njit(error_model="numpy", nogil=True, inline="always")
