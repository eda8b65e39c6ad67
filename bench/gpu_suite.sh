#!/usr/bin/env bash
# The GPU suite, in one call: tests on the real GPU, compute-sanitizer on the kernels, and the
# benchmark against torch/cuDNN, with every result written under one folder.
#
#   bench/gpu_suite.sh [--dry-run] [--out DIR] [STAGE ...]
#
# STAGEs, in order (default: all): env profile calibrate tests sanitize bench
#   env       device, driver, versions, commit          -> env.txt
#   profile   every kernel compiled and linked for the device's compute capability, with its
#             registers, spills and SASS inner loops (kernels/cuda/profile) -> profile.md
#   calibrate the model's assumptions measured (grid.sync, launch) and each strategy's time per
#             pass and per step beside the model and cuDNN (bench/gpu_calibrate.py)
#                                                         -> calibrate.md, calibrate.json
#   tests     every CUDA test (pytest -k cuda) but the static profile's, NUMBA_ENABLE_CUDASIM=0:
#             realistic shapes and multi-block persistent grids; one process per cell side by
#             side, as numba compiles each kernel once per process and compiling is most of the
#             time                                        -> tests.log
#   sanitize  compute-sanitizer memcheck, racecheck, synccheck and initcheck on
#             bench/gpu_kernels_once.py, one process per tool and cell side by side
#                                                         -> sanitizer.log
#   bench     fastrnn bench --backend cuda (LSTM, GRU; B 1..256, H 256 and 1024, T=100) with the
#             dispatcher's choice, then each strategy forced -> bench-*.json, summary.md tables
# Where both tests and sanitize are asked for they run at the same time (neither is timed).
# summary.md collects the status of every stage and the tables. At most 8 files, so the whole
# folder fits what a lent machine hands back. SUITE_TIMEOUT=s scales every stage's time limit
# (default 1; a lease shorter than the whole suite takes 0.5, say).
#
# For a machine with a GPU and numba-cuda, CuPy and torch preinstalled, offline: fastrnn itself
# is installed from this checkout with --no-deps. --dry-run runs the same stages on numba's
# simulator with tiny shapes and without compute-sanitizer, to check the script, not the GPU.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DRY=0
OUT_DIR=""
STAGES=()
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --out) OUT_DIR=$2; shift ;;
        env|profile|calibrate|tests|sanitize|bench) STAGES+=("$1") ;;
        *) echo "usage: $0 [--dry-run] [--out DIR] [env profile calibrate tests sanitize bench]" >&2; exit 2 ;;
    esac
    shift
done
[ ${#STAGES[@]} -eq 0 ] && STAGES=(env profile calibrate tests sanitize bench)
SCALE=${SUITE_TIMEOUT:-1}
limit() { $PY -c "print(max(1, int($1 * $SCALE)))"; }   # a stage's time limit, scaled
CELLS=(LSTM GRU RNN)              # -k groups of the tests stage; RNN takes RNN_TANH and RNN_RELU
# A real run's results belong in the repository; a dry run's do not.
[ $DRY = 1 ] && OUT_DIR=${OUT_DIR:-${TMPDIR:-/tmp}/fastrnn-gpu-suite-dry-run}
OUT_DIR=${OUT_DIR:-bench/results/gpu-$(date -u +%Y-%m-%d)}
mkdir -p "$OUT_DIR"
SUMMARY=$OUT_DIR/summary.md

if [ $DRY = 1 ]; then
    export NUMBA_ENABLE_CUDASIM=1
    SHAPES="--shapes 2x2x8,2x1x8"
    TORCH="--no-torch"            # torch's CUDA side needs a GPU
else
    export NUMBA_ENABLE_CUDASIM=0
    SHAPES=""                      # the default GPU grid (fastrnn/bench/grid.py)
    TORCH=""
    # fastrnn from this checkout, into the preinstalled environment, offline.
    $PY -m pip install -q --no-deps --no-build-isolation -e . >"$OUT_DIR/install.log" 2>&1 \
        || { echo "pip install failed; see $OUT_DIR/install.log"; cat "$OUT_DIR/install.log"; exit 1; }
    rm -f "$OUT_DIR/install.log"
fi
export PYTHONUNBUFFERED=1

{
    echo "# GPU suite, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "command: bench/gpu_suite.sh $([ $DRY = 1 ] && echo '--dry-run ')${STAGES[*]}  (commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
    [ $DRY = 1 ] && echo "DRY RUN on numba's CUDA simulator: checks the script, measures nothing."
} >"$SUMMARY"

status() {   # stage, exit code, log file
    local verdict=ok
    [ "$2" = 0 ] || verdict="FAILED (exit $2)"
    [ "$2" = 124 ] && verdict="TIMED OUT"
    { echo; echo "## $1: $verdict"; echo; echo '```'; tail -n "${4:-15}" "$3"; echo '```'; } >>"$SUMMARY"
    echo "== $1: $verdict"
}


tests_stage() {     # one pytest process per cell group and one for the rest, side by side
    local pids=() groups=() rc=0 i
    if [ $DRY = 1 ]; then
        groups=("cuda and base")
    else
        for c in "${CELLS[@]}"; do groups+=("cuda and $c"); done
        groups+=("cuda and not LSTM and not GRU and not RNN and not profile")   # the profile stage compiles those
    fi
    for i in "${!groups[@]}"; do
        timeout $(limit 420) $PY -m pytest -q -p no:cacheprovider -rfE -k "${groups[$i]}" \
            $([ $DRY = 1 ] && echo tests/test_cuda_vs_reference.py || echo tests/) >"$OUT_DIR/tests.$i.log" 2>&1 &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"; local r=$?
        [ $r = 5 ] && r=0        # a group that selects nothing
        [ $r = 0 ] || rc=$r
        { echo "### pytest -k '${groups[$i]}': exit $r"; cat "$OUT_DIR/tests.$i.log"; } >>"$OUT_DIR/tests.log"
        rm -f "$OUT_DIR/tests.$i.log"
    done
    status tests $rc "$OUT_DIR/tests.log" 25
}

sanitize_stage() {  # one process per tool and cell, side by side
    local pids=() names=() rc=0 i tool mode modes=(LSTM GRU RNN_TANH RNN_RELU)
    [ $DRY = 1 ] && modes=(GRU)
    for tool in memcheck racecheck synccheck initcheck; do
        for mode in "${modes[@]}"; do
            names+=("$tool $mode")
            if [ $DRY = 1 ]; then
                timeout $(limit 120) $PY bench/gpu_kernels_once.py $mode >"$OUT_DIR/san.${#pids[@]}.log" 2>&1 &
            else
                timeout $(limit 300) compute-sanitizer --tool $tool --error-exitcode 3 $PY bench/gpu_kernels_once.py $mode \
                    >"$OUT_DIR/san.${#pids[@]}.log" 2>&1 &
            fi
            pids+=($!)
        done
    done
    : >"$OUT_DIR/sanitizer.log"
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}"; local r=$?
        [ $r = 0 ] || rc=$r
        { echo "### compute-sanitizer --tool ${names[$i]}: exit $r"; cat "$OUT_DIR/san.$i.log"; } >>"$OUT_DIR/sanitizer.log"
        rm -f "$OUT_DIR/san.$i.log"
    done
    status sanitize $rc "$OUT_DIR/sanitizer.log" 40
}

for stage in "${STAGES[@]}"; do
    echo "== $stage"
    case $stage in
    env)
        {
            date -u
            nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "no nvidia-smi"
            $PY - <<'EOF'
import platform, importlib
print("python", platform.python_version())
for name in ("numpy", "numba", "numba_cuda", "cupy", "torch"):
    try:
        print(name, importlib.import_module(name).__version__)
    except Exception as e:
        print(name, "unavailable:", type(e).__name__)
from numba import cuda
from numba.core import config
if config.ENABLE_CUDASIM:
    print("device: numba CUDA simulator")
else:
    d = cuda.get_current_device()
    print("device:", d.name.decode() if isinstance(d.name, bytes) else d.name, "cc", d.compute_capability,
          "SMs", d.MULTIPROCESSOR_COUNT, "shared/block", getattr(d, "MAX_SHARED_MEMORY_PER_BLOCK", "?"))
EOF
        } >"$OUT_DIR/env.txt" 2>&1
        status env $? "$OUT_DIR/env.txt" 30
        ;;
    profile)
        CC=9.0
        [ $DRY = 0 ] && CC=$($PY -c "from numba import cuda; print('%d.%d' % cuda.get_current_device().compute_capability)")
        NUMBA_ENABLE_CUDASIM=0 timeout $(limit 300) $PY -m fastrnn.kernels.cuda.profile --cc "$CC" >"$OUT_DIR/profile.md" 2>&1
        status "profile (cc $CC)" $? "$OUT_DIR/profile.md" 3
        ;;
    calibrate)
        timeout $(limit 300) $PY bench/gpu_calibrate.py --json "$OUT_DIR/calibrate.json" >"$OUT_DIR/calibrate.md" 2>"$OUT_DIR/calibrate.err"
        rc=$?
        cat "$OUT_DIR/calibrate.err" >>"$OUT_DIR/calibrate.md"; rm -f "$OUT_DIR/calibrate.err"
        status calibrate $rc "$OUT_DIR/calibrate.md" 60
        ;;
    tests)
        if [[ " ${STAGES[*]} " == *" sanitize "* ]] && [ -z "${SANITIZE_PID:-}" ]; then
            sanitize_stage >"$OUT_DIR/sanitize.status" 2>&1 &
            SANITIZE_PID=$!
        fi
        tests_stage
        if [ -n "${SANITIZE_PID:-}" ] && [ "$SANITIZE_PID" != done ]; then wait "$SANITIZE_PID"; cat "$OUT_DIR/sanitize.status"; rm -f "$OUT_DIR/sanitize.status"; fi
        ;;
    sanitize)
        [ -n "${SANITIZE_PID:-}" ] || { sanitize_stage; SANITIZE_PID=done; }
        ;;
    bench)
        tmp=$(mktemp -d)
        rc=0
        for strategy in auto step persistent; do
            echo "### FASTRNN_CUDA_STRATEGY=$strategy" >>"$tmp/log"
            FASTRNN_CUDA_STRATEGY=$strategy timeout $(limit 400) $PY -m fastrnn bench --backend cuda --cell lstm --cell gru \
                $SHAPES $TORCH --repeats 3 --out "$tmp/$strategy" >>"$tmp/log" 2>&1 || rc=$?
            cp "$tmp/$strategy/results.json" "$OUT_DIR/bench-$strategy.json" 2>/dev/null
            { echo; echo "### bench, FASTRNN_CUDA_STRATEGY=$strategy"; echo; echo '```'
              cat "$tmp/$strategy/table.txt" 2>/dev/null || echo "(no table)"; echo '```'; } >>"$SUMMARY"
        done
        status bench $rc "$tmp/log" 10
        rm -rf "$tmp"
        ;;
    esac
done
echo
cat "$SUMMARY"
