"""Quantized vs float on scikit-learn's digits (issue 13): a 64-32-10 MLP and a small CNN,
quantized after training with part of the training set as calibration, must agree on the top-1
class for at least 95 % of the held-out images. benches/compute_fidelity.py prints the numbers.
"""

from __future__ import annotations

from collections.abc import Callable

import digits_models as dm
import pytest

from bigfile_zk.compute import Model


@pytest.fixture(scope="module")
def digits() -> dm.Digits:
    return dm.load()


@pytest.mark.parametrize("train", [dm.train_mlp, dm.train_cnn], ids=["mlp", "cnn"])
def test_quantized_agrees_with_float(
    digits: dm.Digits, train: Callable[[dm.Digits], Model]
) -> None:
    model = train(digits)
    qmodel = dm.quantize_digits(model, digits)
    f = dm.fidelity(model, qmodel, digits)
    assert f.float_accuracy >= 0.9  # the float model learned something
    assert f.agreement >= 0.95, f
    assert f.quant_accuracy >= f.float_accuracy - 0.02, f
    # The integer input is the pixel itself: the file's bytes.
    pixels = (digits.x_test[0] * 16).round().astype(int)
    x = qmodel.quantize_input(dm.as_input(model, digits.x_test[:1])[0])
    assert qmodel.input_bytes(x) == bytes(pixels.tolist())
