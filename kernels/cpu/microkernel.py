"""The register tile of the packed recurrent product (panels.py), written as LLVM vector IR.

    out[b + i, c + j] = sum_k a[b + i, k] * pan[k, j]     i < rows, j < n <= NW

a (B, K) rows of h_{t-1} or dG_t; pan (K, NW) one panel: NW = PANEL_BYTES / itemsize columns of
the weight matrix, each k a contiguous 128-byte row. Per k: NV = 2 vector loads of the panel row,
one broadcast of a[b + i, k] per row i, 2 * rows FMAs into rows * NV vector accumulators, which
stay in registers for the whole K loop; a tile ends with plain vector stores (masked lane by lane
for the last, narrower panel of a block). This is the outer-product form of a GEMM microkernel:
no horizontal sums at all, where the dot-product form (recurrent.rows_dot) ends every 4 x 3 block
with 12 of them.
Why IR: numba's loop vectoriser only splits a reduction over k into lanes; written as scalar
accumulators over a panel row, LLVM's SLP vectoriser left this loop scalar (9-19 GFLOP/s).
Measured, one core of a Zen 4 (AVX-512, sgemm peak about 105 GFLOP/s per core), float32, GFLOP/s
of panels_dot against rows_dot on W in place (K = the length of a product, N its columns):
B=32 K=128 N=512 112 vs 79; B=64 K=128 N=512 112 vs 80; B=8 K=256 N=1024 113 vs 85; B=16 K=256
N=1024 111 vs 94; B=8 K=512 N=2048 115 vs 89; B=4 K=512 N=2048 114 vs 76; B=2 K=256 N=1024 84 vs
74; B=1 K=256 N=1024 41 vs 45 (one row is a GEMV, bound by the panel's loads either way).
"""
import llvmlite.binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils, config
from numba.extending import intrinsic

PANEL_BYTES = 128       # a panel row: two 64-byte vectors (one zmm each, two ymm each on AVX2)
VECTOR_BYTES = 64


def _tile_rows():
    # rows * 2 accumulators of 64 bytes: 12 of the 32 zmm registers with AVX-512; on AVX2 a
    # 64-byte vector is 2 of its 16 ymm registers, so 3 rows (12 ymm) leave room for the loads.
    # (the features numba compiles for: the host's, unless NUMBA_CPU_NAME names another CPU)
    if config.CPU_NAME and config.CPU_NAME != "host":
        features = config.CPU_FEATURES or ""
    else:
        features = llvm.get_host_cpu_features().flatten()
    return 6 if "+avx512f" in features else 3


TILE_ROWS = _tile_rows()


def _byte_ptr(builder, base, offset, ptr_type):
    # base + offset bytes, as ptr_type
    i8 = builder.bitcast(base, ir.IntType(8).as_pointer())
    return builder.bitcast(builder.gep(i8, [offset]), ptr_type)


def _make_tile(rows):
    @intrinsic
    def tile(typingctx, a, pan, out, b, c, n):
        """out[b:b+rows, c:c+n] = a[b:b+rows] @ pan[:, :n] (see the module)."""
        sig = types.none(a, pan, out, b, c, n)

        def codegen(context, builder, signature, args):
            A, P, O = (context.make_array(t)(context, builder, v) for t, v in zip(signature.args[:3], args[:3]))
            b, c, n = args[3:]
            elem = context.get_value_type(signature.args[0].dtype)
            size = context.get_abi_sizeof(elem)
            width = VECTOR_BYTES // size
            nv = PANEL_BYTES // VECTOR_BYTES
            vec = ir.VectorType(elem, width)
            intp = context.get_value_type(types.intp)

            def const(v):
                return ir.Constant(intp, v)

            K = cgutils.unpack_tuple(builder, P.shape)[0]
            a_row, p_row, o_row = (cgutils.unpack_tuple(builder, X.strides)[0] for X in (A, P, O))
            # accumulators in entry-block allocas: LLVM's mem2reg keeps them in registers
            acc = [[cgutils.alloca_once_value(builder, ir.Constant(vec, [0.0] * width)) for _ in range(nv)]
                   for _ in range(rows)]
            a_at = [builder.mul(builder.add(b, const(i)), a_row) for i in range(rows)]
            undef = ir.Constant(vec, ir.Undefined)
            lane0 = ir.Constant(ir.IntType(32), 0)
            splat = ir.Constant(ir.VectorType(ir.IntType(32), width), [0] * width)
            with cgutils.for_range(builder, K) as loop:
                k = loop.index
                w = [builder.load(_byte_ptr(builder, P.data, builder.add(builder.mul(k, p_row), const(VECTOR_BYTES * v)),
                                            vec.as_pointer()), align=size) for v in range(nv)]
                k_at = builder.mul(k, const(size))
                for i in range(rows):
                    x = builder.load(_byte_ptr(builder, A.data, builder.add(a_at[i], k_at), elem.as_pointer()))
                    x = builder.shuffle_vector(builder.insert_element(undef, x, lane0), undef, splat)
                    for v in range(nv):
                        # "contract": one FMA; no other fast-math flag, so NaN and inf propagate
                        s = builder.fadd(builder.fmul(x, w[v], flags=["contract"]), builder.load(acc[i][v]),
                                         flags=["contract"])
                        builder.store(s, acc[i][v])
            out_at = [builder.add(builder.mul(builder.add(b, const(i)), o_row), builder.mul(c, const(size)))
                      for i in range(rows)]
            with builder.if_else(builder.icmp_signed(">=", n, const(nv * width))) as (full, narrow):
                with full:
                    for i in range(rows):
                        for v in range(nv):
                            builder.store(builder.load(acc[i][v]),
                                          _byte_ptr(builder, O.data, builder.add(out_at[i], const(VECTOR_BYTES * v)),
                                                    vec.as_pointer()), align=size)
                with narrow:    # the first n lanes only: the columns past n are someone else's
                    for i in range(rows):
                        for v in range(nv):
                            left = builder.sub(n, const(v * width))
                            left = builder.select(builder.icmp_signed("<", left, const(width)), left, const(width))
                            value = builder.load(acc[i][v])
                            with cgutils.for_range(builder, left) as lanes:
                                j = lanes.index
                                at = builder.add(out_at[i], builder.mul(builder.add(j, const(v * width)), const(size)))
                                builder.store(builder.extract_element(value, builder.trunc(j, ir.IntType(32))),
                                              _byte_ptr(builder, O.data, at, elem.as_pointer()))
            return context.get_dummy_value()
        return sig, codegen
    return tile


# tiles[i] computes i + 1 rows; panels.py calls them by row count
tile1, tile2, tile3, tile4, tile5, tile6 = (_make_tile(rows) for rows in range(1, 7))
