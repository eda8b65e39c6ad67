"""The examples learn: each runs here shortened, and must already clear its bar.
(The scripts in examples/ are for reading and running; these tests hold their numbers.)"""
import importlib.util
import pathlib

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def _example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_read_row_by_row():
    # The full run (30 epochs) reaches 98% on the held-out fifth; 12 epochs already clear 90%.
    acc = _example("digits_rows").main(epochs=12, log=lambda *_: None)
    assert acc >= 0.90


def test_sunspot_forecast_beats_the_naive_forecast():
    # The full run (300 epochs) has MAE 14 against the naive 25; 150 epochs must beat naive.
    mae, naive = _example("sunspots_forecast").main(epochs=150, log=lambda *_: None)
    assert mae < 0.8 * naive


def test_reverse_digits_with_teacher_forcing():
    # The full run (1500 steps) reaches 95% exact match; 750 steps already clear 75%.
    acc = _example("reverse_digits").main(steps=750, log=lambda *_: None)
    assert acc >= 0.75


@pytest.mark.parametrize("name", ["digits_rows", "sunspots_forecast", "reverse_digits"])
def test_examples_say_how_to_run_them(name):
    text = (EXAMPLES / f"{name}.py").read_text()
    assert f"python examples/{name}.py" in text and 'pip install ".[examples]"' in text
