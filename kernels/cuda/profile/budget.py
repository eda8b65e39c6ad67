"""SASS instructions per FMA allowed in each persistent sweep's inner loop (float32, sm_90).

The profile fails when a kernel goes above its figure; a change that lowers a figure lowers it
here too, so the budget only goes down. kernels/TUNING.md records each figure's commit.
"""
INNER_LOOP = {
    "LSTM forward persistent BT=1": 2.422,
    "LSTM forward persistent BT=4": 1.719,
    "LSTM backward persistent BT=1": 2.422,
    "LSTM backward persistent BT=4": 1.719,
    "GRU forward persistent BT=1": 2.422,
    "GRU forward persistent BT=4": 1.719,
    "GRU backward persistent BT=1": 2.422,
    "GRU backward persistent BT=4": 1.719,
    "RNN_TANH forward persistent BT=1": 2.422,
    "RNN_TANH forward persistent BT=4": 1.719,
    "RNN_TANH backward persistent BT=1": 2.422,
    "RNN_TANH backward persistent BT=4": 1.719,
    "RNN_RELU forward persistent BT=1": 2.422,
    "RNN_RELU forward persistent BT=4": 1.719,
    "RNN_RELU backward persistent BT=1": 2.422,
    "RNN_RELU backward persistent BT=4": 1.719,
}
