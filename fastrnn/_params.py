"""Parameters shared by the layers and the cells: torch's initialisation and state_dict."""
import numpy as np

from ._checks import named_arrays


def init_uniform(shapes, hidden_size, dtype, seed):
    """torch's default: every weight and bias uniform in [-1/sqrt(H), 1/sqrt(H)]."""
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(hidden_size)
    return {name: rng.uniform(-k, k, size=shape).astype(dtype) for name, shape in shapes.items()}


class HasParameters:
    """state_dict / load_state_dict / parameters over self._params {torch name: array}."""

    def state_dict(self):
        """{torch name: array}, copies, in torch's order."""
        return {k: v.copy() for k, v in self._params.items()}

    def load_state_dict(self, d):
        """Load torch-named parameters: numpy arrays, lists, or torch CPU tensors. Checks every
        key and shape first, so a failed load changes nothing."""
        shapes = {k: v.shape for k, v in self._params.items()}
        new = named_arrays("load_state_dict", d, shapes, self.dtype)
        self._params.update({k: v.copy() for k, v in new.items()})   # never alias the caller's arrays

    def parameters(self):
        return list(self._params.values())

    def named_parameters(self):
        """[(torch name, array)]: the live arrays, which an optimiser updates in place."""
        return list(self._params.items())
