"""Parameter dicts shared by the layers and the cells: torch's initialisation and state_dict."""
import numpy as np

from ._checks import float_array, shape_is


def init_uniform(shapes, hidden_size, dtype, seed):
    """torch's default: every weight and bias uniform in [-1/sqrt(H), 1/sqrt(H)]."""
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(hidden_size)
    return {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}


def load(params, d, dtype):
    """Check d against params (same keys, same shapes), then replace params' values with copies."""
    missing = [k for k in params if k not in d]
    extra = [k for k in d if k not in params]
    if missing or extra:
        raise ValueError(f"load_state_dict: missing keys {missing}, unexpected keys {extra}")
    new = {}
    for name, old in params.items():
        new[name] = float_array(name, d[name], dtype).copy()
        shape_is(name, new[name], old.shape)
    params.update(new)
