"""SASS instructions per FMA allowed in each persistent sweep's inner loop (float32, sm_90).

The profile fails when a kernel goes above its figure; a change that lowers a figure lowers it
here too, so the budget only goes down. kernels/TUNING.md records each figure's commit.
"""
INNER_LOOP = {
    "LSTM forward persistent": 28.25,
    "GRU forward persistent": 28.25,
    "RNN_TANH forward persistent": 28.25,
    "RNN_RELU forward persistent": 28.25,
    "LSTM backward persistent": 31.5,
    "GRU backward persistent": 31.5,
    "RNN_TANH backward persistent": 31.25,
    "RNN_RELU backward persistent": 31.25,
}
