"""Reading a kernel's SASS: its innermost multiply-add loop, its staging loop, and any float64 arithmetic.

A loop is a backward branch. The recurrent product's inner loop in a sweep kernel is the innermost
loop holding the most FFMAs (DFMA for float64) and no MUFU: the pointwise loop of the gates has
FFMAs too, but its exp and reciprocals issue MUFU, and a product loop has none. Per FMA it reports every instruction issued,
and the shared-memory and global/generic-memory instructions among them: the figures that bound
a sweep's speed before any GPU runs it.
"""
import re
from dataclasses import dataclass

_LINE = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_.]*)([^;]*);")
_TARGET = re.compile(r"(0x[0-9a-f]+)")
FLOAT64 = ("DADD", "DMUL", "DFMA", "DSETP", "DMNMX", "DSET", "DRND")
SHARED = ("LDS", "STS", "LDSM", "ATOMS")
GLOBAL = ("LDG", "STG", "LD", "ST", "ATOMG", "ATOM", "RED")   # LD/ST: generic addresses
LOADS = ("LDS", "LDG", "LD")


def _width(mods):
    # bytes one thread loads: LDS.128 16, LDG.E.64 8, plain 4
    for bits in ("128", "64"):
        if f".{bits}" in mods:
            return int(bits) // 8
    return 4


@dataclass(frozen=True)
class Loop:
    start: int            # address of the first instruction
    end: int              # address of the backward branch
    instructions: int     # issued per iteration, NOPs excluded
    fmas: int
    shared: int           # shared-memory instructions
    global_: int          # global and generic memory instructions
    load_bytes: int       # bytes per thread that the shared, global and generic loads read

    @property
    def per_fma(self):
        return self.instructions / self.fmas


def instructions(sass):
    """[(address, opcode, modifiers, operands)] in address order: FFMA.RZ is ('FFMA', '.RZ', ...)."""
    out = []
    for a, op, rest in _LINE.findall(sass):
        base, _, mods = op.partition(".")
        out.append((int(a, 16), base, "." + mods if mods else "", rest.strip()))
    return out


def loops(sass):
    code = instructions(sass)
    spans = []
    for addr, op, _, rest in code:
        if op == "BRA":
            m = _TARGET.search(rest)
            if m and int(m.group(1), 16) <= addr:
                spans.append((int(m.group(1), 16), addr))
    out = []
    for lo, hi in spans:
        body = [(op, mods) for a, op, mods, _ in code if lo <= a <= hi and op != "NOP"]
        out.append((lo, hi, body))
    return out


def inner_loop(sass, fma="FFMA"):
    """The innermost loop without MUFU with the most `fma` instructions, or None."""
    spans = loops(sass)
    best = None
    for lo, hi, body in spans:
        if any(lo <= a and b <= hi and (a, b) != (lo, hi) for a, b, _ in spans):
            continue          # holds another loop: not innermost
        ops = [op for op, _ in body]
        n = ops.count(fma)
        if n and "MUFU" not in ops and (best is None or n > best.fmas):
            best = Loop(lo, hi, len(ops), n, sum(op in SHARED for op in ops), sum(op in GLOBAL for op in ops),
                        sum(_width(mods) for op, mods in body if op in LOADS))
    return best


def staging_loop(sass):
    """The innermost loop with the most global loads (LDG) and no multiply-add or MUFU: a sweep's
    staging of what other blocks wrote (products/stage.py), whose loads per iteration are the
    loads each thread has in flight. None if there is none."""
    spans = loops(sass)
    best = None
    for lo, hi, body in spans:
        if any(lo <= a and b <= hi and (a, b) != (lo, hi) for a, b, _ in spans):
            continue
        ops = [op for op, _ in body]
        n = ops.count("LDG")
        if n and not {"FFMA", "DFMA", "MUFU"} & set(ops) and (best is None or n > best.global_):
            best = Loop(lo, hi, len(ops), 0, sum(op in SHARED for op in ops), n,
                        sum(_width(mods) for op, mods in body if op in LOADS))
    return best


def count(sass):
    """Instructions in the function, NOPs excluded."""
    return sum(op != "NOP" for _, op, _, _ in instructions(sass))


def float64_instructions(sass):
    return sum(op in FLOAT64 or ".F64" in mods for _, op, mods, _ in instructions(sass))
