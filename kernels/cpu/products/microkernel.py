"""The register tile of the packed products (panels.py), written as LLVM vector IR.

    out[b + i, c + j] (+)= sum_k a[b + i, k] * pan[k, j]     i < rows, j < n <= NW

a (B, K): rows of h_{t-1} or dG_t (the sweeps), or of a GEMM's a^T (tile_gemm.py: a view that may
be strided, so a's k stride is read from the array, not assumed); pan (K, NW) one panel: NW = PANEL_BYTES /
itemsize columns of the other operand, each k a contiguous PANEL_BYTES row. `accumulate` adds the
tile to out instead of storing it (a product summed over blocks of k). Per k: NV = 2 vector loads
of the panel row, one broadcast of a[b + i, k] per row i, 2 * rows FMAs into rows * NV vector
accumulators, which stay in registers for the whole K loop; a tile ends with plain vector stores,
or loads, adds and stores (lane by lane for the last, narrower panel of a block). This is the
outer-product form of a GEMM microkernel: no horizontal sums at all, where the dot-product form
(in_place.rows_dot) ends every 4 x 3 block with 12 of them.
Why IR: numba's loop vectoriser only splits a reduction over k into lanes; written as scalar
accumulators over a panel row, LLVM's SLP vectoriser left this loop scalar. Tiles of up to 8 rows
with AVX-512, 6 with AVX2 (TILE_ROWS): one 8-row tile reads each panel row once, two 4-row tiles
twice.
Measurements, per machine: kernels/TUNING.md.
"""
import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

def _avx512():
    # the features numba compiles for: the host's, unless NUMBA_CPU_NAME names another CPU
    if config.CPU_NAME and config.CPU_NAME != "host":
        features = config.CPU_FEATURES or ""
    else:
        features = llvm.get_host_cpu_features().flatten()
    return "+avx512f" in features


# One vector is one register: a zmm with AVX-512, a ymm otherwise. A tile keeps rows x 2
# accumulators, beside the two panel vectors and a broadcast: 8 rows take 16 + 3 of the 32 zmm,
# 6 rows 12 + 3 of AVX2's 16 ymm (the 6 x 16 float tile of BLIS and OpenBLAS on Haswell and Zen).
VECTOR_BYTES = 64 if _avx512() else 32
PANEL_BYTES = 2 * VECTOR_BYTES      # a panel row: two vectors
TILE_ROWS = 8 if VECTOR_BYTES == 64 else 6


class _Emit:
    """IR helpers for one tile: byte addressing into the arrays' data, vector loads, broadcasts."""

    def __init__(self, context, builder, dtype):
        self.b = builder
        self.intp = context.get_value_type(types.intp)
        self.elem = context.get_value_type(dtype)
        self.size = context.get_abi_sizeof(self.elem)
        self.width = VECTOR_BYTES // self.size                  # lanes of one vector
        self.vec = ir.VectorType(self.elem, self.width)

    def const(self, v):
        return ir.Constant(self.intp, v)

    def add(self, *terms):
        total = terms[0]
        for t in terms[1:]:
            total = self.b.add(total, t)
        return total

    def ptr(self, data, byte_offset, ty):
        i8 = self.b.bitcast(data, ir.IntType(8).as_pointer())
        return self.b.bitcast(self.b.gep(i8, [byte_offset]), ty.as_pointer())

    def load_vec(self, data, byte_offset):
        return self.b.load(self.ptr(data, byte_offset, self.vec), align=self.size)

    def store_vec(self, value, data, byte_offset):
        self.b.store(value, self.ptr(data, byte_offset, self.vec), align=self.size)

    def broadcast(self, data, byte_offset):
        # one element, in every lane
        x = self.b.load(self.ptr(data, byte_offset, self.elem))
        undef = ir.Constant(self.vec, ir.Undefined)
        x = self.b.insert_element(undef, x, ir.Constant(ir.IntType(32), 0))
        return self.b.shuffle_vector(x, undef, ir.Constant(ir.VectorType(ir.IntType(32), self.width),
                                                           [0] * self.width))

    def fma(self, x, y, acc):
        # "contract" lets LLVM fuse the multiply-add; no other fast-math flag, so NaN and inf propagate
        return self.b.fadd(self.b.fmul(x, y, flags=["contract"]), acc, flags=["contract"])


def _make_tile(rows):
    nv = PANEL_BYTES // VECTOR_BYTES        # vectors per panel row

    @intrinsic
    def tile(typingctx, a, pan, out, b, c, n, accumulate):
        """out[b:b+rows, c:c+n] (+)= a[b:b+rows] @ pan[:, :n] (see the module)."""
        sig = types.none(a, pan, out, b, c, n, accumulate)

        def codegen(context, builder, signature, args):
            A, P, O = (context.make_array(t)(context, builder, v) for t, v in zip(signature.args[:3], args[:3]))
            b, c, n = args[3:6]
            add = context.cast(builder, args[6], signature.args[6], types.boolean)
            e = _Emit(context, builder, signature.args[0].dtype)
            K = cgutils.unpack_tuple(builder, P.shape)[0]
            a_row, a_k = cgutils.unpack_tuple(builder, A.strides)
            p_row, o_row = (cgutils.unpack_tuple(builder, X.strides)[0] for X in (P, O))
            a_at = [builder.mul(e.add(b, e.const(i)), a_row) for i in range(rows)]     # bytes to a[b+i]
            out_at = [e.add(builder.mul(e.add(b, e.const(i)), o_row), builder.mul(c, e.const(e.size)))
                      for i in range(rows)]                                            # to out[b+i, c]
            # accumulators in entry-block allocas: LLVM's mem2reg keeps them in registers
            zero = ir.Constant(e.vec, [0.0] * e.width)
            acc = [[cgutils.alloca_once_value(builder, zero) for _ in range(nv)] for _ in range(rows)]

            with cgutils.for_range(builder, K) as loop:
                k = loop.index
                w = [e.load_vec(P.data, e.add(builder.mul(k, p_row), e.const(VECTOR_BYTES * v))) for v in range(nv)]
                k_at = builder.mul(k, a_k)
                for i in range(rows):
                    x = e.broadcast(A.data, e.add(a_at[i], k_at))
                    for v in range(nv):
                        builder.store(e.fma(x, w[v], builder.load(acc[i][v])), acc[i][v])

            with builder.if_else(builder.icmp_signed(">=", n, e.const(nv * e.width))) as (full, narrow):
                with full:
                    for i in range(rows):
                        for v in range(nv):
                            at = e.add(out_at[i], e.const(VECTOR_BYTES * v))
                            value = builder.load(acc[i][v])
                            with builder.if_then(add):
                                builder.store(builder.fadd(value, e.load_vec(O.data, at)), acc[i][v])
                            e.store_vec(builder.load(acc[i][v]), O.data, at)
                with narrow:    # the first n columns only: the ones past n are someone else's
                    for i in range(rows):
                        for v in range(nv):
                            lanes = builder.sub(n, e.const(v * e.width))
                            lanes = builder.select(builder.icmp_signed("<", lanes, e.const(e.width)), lanes,
                                                   e.const(e.width))
                            value = builder.load(acc[i][v])
                            with cgutils.for_range(builder, lanes) as lane:
                                j = lane.index
                                at = e.ptr(O.data, e.add(out_at[i], builder.mul(e.add(j, e.const(v * e.width)),
                                                                               e.const(e.size))), e.elem)
                                x = builder.extract_element(value, builder.trunc(j, ir.IntType(32)))
                                builder.store(builder.select(add, builder.fadd(x, builder.load(at)), x), at)
            return context.get_dummy_value()
        return sig, codegen
    return tile


# tile<r> computes r rows; panels._tile picks one by row count
tile1, tile2, tile3, tile4, tile5, tile6, tile7, tile8 = (_make_tile(rows) for rows in range(1, 9))
