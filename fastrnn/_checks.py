"""Argument checks shared by the functional API, the layers and the cells.

Every message names the argument, what was expected and what was received, and every check
runs before any kernel, so a failed call leaves nothing half-done.
"""
import numpy as np

DTYPES = {"float32": np.float32, "float64": np.float64}


# Every spelling a call passes, looked up without np.dtype(...).name (several microseconds).
_DTYPE_KEYS = {**DTYPES, np.float32: np.float32, np.float64: np.float64,
               np.dtype(np.float32): np.float32, np.dtype(np.float64): np.float64}


def dtype_of(dtype):
    """'float32' / 'float64' / np.float32 / np.dtype('float64') -> np.float32 or np.float64."""
    try:
        return _DTYPE_KEYS[dtype]
    except (KeyError, TypeError):       # another spelling, or unhashable: numpy decides
        pass
    try:
        key = np.dtype(dtype).name
    except TypeError:
        key = None
    if key not in DTYPES:
        raise TypeError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    return DTYPES[key]


def positive_int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def float_array(name, a, dtype):
    """Any array-like of real floats (or a torch CPU tensor) -> C-contiguous array of `dtype`.
    Never modifies the input: a cast or a copy is made when the layout or dtype differ."""
    if type(a) is np.ndarray and a.dtype == dtype and a.flags.c_contiguous:
        return a                                        # already what the kernels take
    if a is None:
        raise TypeError(f"{name} must be an array of real floating-point numbers; got None")
    if hasattr(a, "detach") and hasattr(a, "cpu"):     # a torch tensor, without importing torch
        a = a.detach().cpu().numpy()
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as e:                # ragged nested lists, for instance
        raise ValueError(f"{name} must be an array of real floating-point numbers; "
                         f"numpy could not make one: {e}") from None
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real floating-point numbers; got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=dtype)


def probability(name, p):
    """A probability in [0, 1) (1 would drop everything), as a float."""
    if not (isinstance(p, (int, float)) and 0 <= p < 1):
        raise ValueError(f"{name} must be a probability in [0, 1); got {p!r}")
    return float(p)


def shape_is(name, arr, expected):
    if arr.shape != tuple(expected):
        raise ValueError(f"{name} must have shape {tuple(expected)}; got {arr.shape}")


def named_arrays(what, d, shapes, dtype, convert=None):
    """d (a dict of array-likes) checked against shapes {name: shape}: same keys, same shapes.
    Returns {name: convert(name, array, dtype)} in the order of shapes; convert defaults to
    float_array (C-contiguous numpy of dtype)."""
    convert = convert or float_array
    missing = [k for k in shapes if k not in d]
    extra = [k for k in d if k not in shapes]
    if missing or extra:
        raise ValueError(f"{what}: missing keys {missing}, unexpected keys {extra}")
    out = {}
    for name, shape in shapes.items():
        out[name] = convert(name, d[name], dtype)
        shape_is(name, out[name], shape)
    return out


def set_layer_options(layer, input_size, hidden_size, num_layers, bias, batch_first, bidirectional, backend):
    """Check torch.nn.LSTM's constructor options and set them on `layer` (fastrnn's and
    fastrnn.torch's layers share this). A bad backend name fails here, not at the first call."""
    from . import backends
    layer.input_size = positive_int("input_size", input_size)
    layer.hidden_size = positive_int("hidden_size", hidden_size)
    layer.num_layers = positive_int("num_layers", num_layers)
    layer.bias = bool(bias)
    layer.batch_first = bool(batch_first)
    layer.bidirectional = bool(bidirectional)
    backends.resolve(backend)
    layer.backend = backend
