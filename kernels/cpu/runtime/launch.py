"""The team's parallel loop: every member calls one kernel, reached through its address.

Why an address and not a direct call: numba compiles a call from one jitted function to another by
linking the callee's whole LLVM module into the caller's and optimising and compiling the result
again, and a parallel loop is four such modules (the loop body, two wrappers, the function): a
parallel loop written around each kernel, calling it directly, would compile the kernel four more
times, about twice its own compile time more (once per install, as numba caches them, but README's
first command pays it for every cell). Called through its address, the kernel is compiled once,
on its own, and the loop, one per kernel signature, is a few instructions; a launch costs about
1 us more than a direct call (kernels/TUNING.md), a layer's forward+backward 6-7 launches.

kernel(*args, blocks, p) must return None (team.py: members write their results into arrays).
An argument may be a tuple of leaves (the sweeps take three, sweep.py). numba's parallel loop
cannot pass a tuple nested in a tuple to its threads, so the loop gets the arguments' leaves as one
flat tuple (flat()): numba passes a tuple argument to a compiled function as its leaves, one after
another, so the kernel's code reads the flat leaves exactly as it would the tuples.
"""
import numpy as np
from numba import prange, types
from numba._dispatcher import compute_fingerprint
from numba.core import cgutils
from numba.extending import intrinsic

from .jit import team_kernel

_addresses = {}     # (kernel, the arguments' type fingerprint) -> address of its compiled code


def address(kernel, args, blocks):
    """The address of kernel's machine code for these arguments (compiled now if need be): what
    team_loop() calls. A dictionary lookup after the first time, keyed as numba's own dispatch keys
    its compiled versions: on the arguments' type fingerprint (one C call for the tuple, a third of
    a Python loop over them; a layer call launches 6-7 times)."""
    try:
        key = (kernel, compute_fingerprint(args))
    except NotImplementedError:     # a value numba types the slow way: key on its numba types
        key = (kernel, tuple(map(kernel.typeof_pyval, args)))
    found = _addresses.get(key)
    if found is None:
        found = _addresses[key] = _compile(kernel, args, blocks)
    return found


def flat(args):
    """args with every tuple in it spread into its items: one level of nesting, as the kernels take."""
    out = []
    for a in args:
        if isinstance(a, tuple):
            if any(isinstance(x, tuple) for x in a):
                raise TypeError("a team member's arguments may nest tuples one level deep, no more")
            out.extend(a)
        else:
            out.append(a)
    return tuple(out)


def _compile(kernel, args, blocks):
    sig = tuple(kernel.typeof_pyval(a) for a in args + (blocks, np.int64(0)))
    kernel.compile(sig)
    compiled = kernel.overloads[sig]
    if compiled.signature.return_type != types.none:
        raise TypeError(f"{kernel.__name__} returns {compiled.signature.return_type}; a team member must return None")
    return compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)


@intrinsic
def _call(typingctx, address, args, blocks, p):
    """address(*args, blocks, p), the function at address compiled by numba for exactly these types
    (address()), or for the tuples these are the leaves of (flat()); an error it returns is passed
    on, as a direct call would."""
    # The kernel was compiled for (*args, blocks, p) with p int64 (address()): any other types here
    # would call it with the wrong layout of arguments.
    if not (isinstance(address, types.Integer) and isinstance(args, types.BaseTuple) and p == types.int64
            and isinstance(blocks, types.Array) and blocks.dtype == types.int64 and blocks.ndim == 2):
        return None
    arg_types = tuple(args) + (blocks, p)

    def codegen(context, builder, signature, values):
        fn_address, packed, blocks_value, p_value = values
        call_values = [builder.extract_value(packed, i) for i in range(len(args))] + [blocks_value, p_value]
        fn_type = context.call_conv.get_function_type(types.none, arg_types)
        fn = builder.inttoptr(fn_address, fn_type.as_pointer())
        status, _ = context.call_conv.call_function(builder, fn, types.none, arg_types, call_values)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return context.get_dummy_value()

    return types.none(address, args, blocks, p), codegen


@team_kernel
def team_loop(address, args, blocks, done):
    """kernel(*args, blocks, p) for p = 0 .. len(blocks) - 1 at once, on numba's threads (team.run),
    kernel being the function at `address`, args flat (flat()); done[p] = 1 after member p
    returns."""
    for p in prange(blocks.shape[0]):
        _call(address, args, blocks, np.int64(p))   # p: numba types a prange index as uint64 inside the loop
        done[p] = 1
