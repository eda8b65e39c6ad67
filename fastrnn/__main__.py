"""Command line: `fastrnn bench [...]`, `fastrnn warmup [...]` (also `python -m fastrnn ...`)."""
import sys

USAGE = ("usage: fastrnn bench [--quick] [--cell C] [--backend B] [--shapes S] [--out DIR] [...]\n"
         "       fastrnn bench --cells [--out DIR]\n"
         "       fastrnn warmup [--dtype float32|float64|all] [--cell C]\n"
         "       fastrnn bench --help | fastrnn warmup --help")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from .bench import main as bench_main
        return bench_main(argv[1:])
    if argv[:1] == ["warmup"]:
        from .warmup import main as warmup_main
        return warmup_main(argv[1:])
    asked = argv[:1] in (["-h"], ["--help"])
    print(USAGE, file=sys.stdout if asked else sys.stderr)
    return 0 if asked else 2


if __name__ == "__main__":
    sys.exit(main())
