"""Command line: `fastrnn bench [...]` (also `python -m fastrnn bench`)."""
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help") or argv[0] != "bench":
        print("usage: fastrnn bench [--quick] [--cell lstm|gru|rnn] [--repeats N] [--no-torch] [--json PATH]\n"
              "       fastrnn bench --help", file=sys.stderr if argv and argv[0] not in ("-h", "--help") else sys.stdout)
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    from .bench import main as bench_main
    return bench_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
