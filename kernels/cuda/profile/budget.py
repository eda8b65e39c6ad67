"""SASS instructions per FMA allowed in each persistent sweep's inner loop (float32, sm_90).

The profile fails when a kernel goes above its figure; a change that lowers a figure lowers it
here too, so the budget only goes down. kernels/TUNING.md records each figure's commit.
"""
INNER_LOOP = {
    "LSTM forward persistent BT=1": 2.360,
    "LSTM forward persistent BT=4": 1.610,
    "LSTM forward persistent BT=8": 1.454,
    "LSTM backward persistent BT=1": 2.360,
    "LSTM backward persistent BT=4": 1.641,
    "LSTM backward persistent BT=8": 1.469,
    "GRU forward persistent BT=1": 2.360,
    "GRU forward persistent BT=4": 1.610,
    "GRU forward persistent BT=8": 1.454,
    "GRU backward persistent BT=1": 2.360,
    "GRU backward persistent BT=4": 1.641,
    "GRU backward persistent BT=8": 1.469,
    "RNN_TANH forward persistent BT=1": 2.360,
    "RNN_TANH forward persistent BT=4": 1.610,
    "RNN_TANH forward persistent BT=8": 1.454,
    "RNN_TANH backward persistent BT=1": 2.360,
    "RNN_TANH backward persistent BT=4": 1.610,
    "RNN_TANH backward persistent BT=8": 1.454,
    "RNN_RELU forward persistent BT=1": 2.360,
    "RNN_RELU forward persistent BT=4": 1.610,
    "RNN_RELU forward persistent BT=8": 1.454,
    "RNN_RELU backward persistent BT=1": 2.360,
    "RNN_RELU backward persistent BT=4": 1.610,
    "RNN_RELU backward persistent BT=8": 1.454,
}
