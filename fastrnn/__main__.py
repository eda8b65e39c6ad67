"""Command line: `fastrnn bench [...]` (also `python -m fastrnn bench`)."""
import sys

USAGE = ("usage: fastrnn bench [--quick] [--cell C] [--backend B] [--shapes S] [--out DIR] [...]\n"
         "       fastrnn bench --help")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from .bench import main as bench_main
        return bench_main(argv[1:])
    asked = argv[:1] in (["-h"], ["--help"])
    print(USAGE, file=sys.stdout if asked else sys.stderr)
    return 0 if asked else 2


if __name__ == "__main__":
    sys.exit(main())
