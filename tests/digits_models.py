"""Small float models trained on scikit-learn's 8x8 digits, for the quantization fidelity tests
(tests/test_compute_digits.py) and benches/compute_fidelity.py.

Pixels are 0..16; the float input is ``pixels / 16`` and the quantized input is the pixel
itself (uint8, scale 1/16, zero point 0, declared range [0, 16]), so the integer input is
exactly the file's bytes. Training is seeded and takes a few seconds on 2 cores.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bigfile_zk.compute import (
    AvgPool,
    Conv2d,
    Dense,
    Flatten,
    Model,
    QuantizedModel,
    ReLU,
    TensorQuant,
    quantize,
)

Floats = npt.NDArray[np.float64]
INPUT_QUANT = TensorQuant("uint8", 1 / 16, 0)
INPUT_RANGE = (0, 16)


@dataclass(frozen=True)
class Digits:
    x_train: Floats  # [N, 64] in [0, 1]
    y_train: npt.NDArray[np.int64]
    x_test: Floats
    y_test: npt.NDArray[np.int64]


def load(seed: int = 0) -> Digits:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = data.data.astype(np.float64) / 16.0
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.target, test_size=0.25, random_state=seed, stratify=data.target
    )
    return Digits(x_train, y_train, x_test, y_test)


def train_mlp(d: Digits, seed: int = 0) -> Model:
    """64-32-10 ReLU MLP (scikit-learn's MLPClassifier, Adam)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(d.x_train, d.y_train)
    (w1, w2), (b1, b2) = clf.coefs_, clf.intercepts_
    return Model((64,), [Dense("fc1", w1.T, b1), ReLU("relu1"), Dense("fc2", w2.T, b2)])


def _patches(x: Floats) -> Floats:
    """``[N, 64 positions, 9 taps]`` of the zero-padded 3x3 neighbourhoods of ``[N, 8, 8]``,
    tap ``3u + v`` (the order of a ``[C_out, 1, 3, 3]`` kernel)."""
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    taps = [xp[:, u : u + 8, v : v + 8].reshape(len(x), 64) for u in range(3) for v in range(3)]
    return np.stack(taps, axis=2)


def train_cnn(d: Digits, seed: int = 0, epochs: int = 40, channels: int = 4) -> Model:
    """Conv 3x3x``channels`` (padding 1) → ReLU → AvgPool 2 → Flatten → Dense 10, trained in
    numpy (softmax cross-entropy, Adam, mini-batches of 64)."""
    rng = np.random.default_rng(seed)
    cols = _patches(d.x_train.reshape(-1, 8, 8))
    onehot = np.eye(10)[d.y_train]
    params = {
        "wc": rng.normal(0, np.sqrt(2 / 9), (channels, 9)),
        "bc": np.zeros(channels),
        "wd": rng.normal(0, np.sqrt(1 / (16 * channels)), (10, 16 * channels)),
        "bd": np.zeros(10),
    }
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    lr, b1, b2, t = 0.01, 0.9, 0.999, 0
    for _ in range(epochs):
        order = rng.permutation(len(cols))
        for start in range(0, len(order), 64):
            idx = order[start : start + 64]
            n = len(idx)
            z1 = cols[idx] @ params["wc"].T + params["bc"]  # [n, 64, C]
            a1 = np.maximum(z1, 0)
            pooled = a1.reshape(n, 4, 2, 4, 2, channels).mean(axis=(2, 4))  # [n, 4, 4, C]
            feats = pooled.transpose(0, 3, 1, 2).reshape(n, -1)  # CHW flatten
            logits = feats @ params["wd"].T + params["bd"]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            dlogits = (p - onehot[idx]) / n
            grads = {"wd": dlogits.T @ feats, "bd": dlogits.sum(axis=0)}
            dpool = (dlogits @ params["wd"]).reshape(n, channels, 4, 4).transpose(0, 2, 3, 1)
            da1 = np.repeat(np.repeat(dpool, 2, axis=1), 2, axis=2).reshape(n, 64, channels) / 4
            dz1 = da1 * (z1 > 0)
            grads["wc"] = np.einsum("npc,npk->ck", dz1, cols[idx])
            grads["bc"] = dz1.sum(axis=(0, 1))
            t += 1
            for k, g in grads.items():
                m, v = moments[k]
                m[:] = b1 * m + (1 - b1) * g
                v[:] = b2 * v + (1 - b2) * g * g
                mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
                params[k] -= lr * mhat / (np.sqrt(vhat) + 1e-8)
    return Model(
        (1, 8, 8),
        [
            Conv2d("conv", params["wc"].reshape(channels, 1, 3, 3), params["bc"], padding=1),
            ReLU("relu"),
            AvgPool("pool", 2),
            Flatten("flatten"),
            Dense("fc", params["wd"], params["bd"]),
        ],
    )


def as_input(model: Model, x: Floats) -> Floats:
    """Flat ``[N, 64]`` digits in the model's input shape."""
    return x.reshape(len(x), *model.input_shape)


def quantize_digits(model: Model, d: Digits, calibration: int = 300) -> QuantizedModel:
    """Post-training quantization calibrated on the first ``calibration`` training images."""
    return quantize(
        model,
        as_input(model, d.x_train[:calibration]),
        input_quant=INPUT_QUANT,
        input_range=INPUT_RANGE,
    )


@dataclass(frozen=True)
class Fidelity:
    float_accuracy: float
    quant_accuracy: float
    agreement: float
    max_logit_delta: float
    #: The same over the float logits inside the output's representable range: what is left
    #: after excluding calibration clipping (test logits beyond what the calibration set saw).
    max_logit_delta_in_range: float


def fidelity(model: Model, qmodel: QuantizedModel, d: Digits) -> Fidelity:
    """Float vs quantized on the held-out split: top-1 accuracies, top-1 agreement and the
    largest ``|dequantized logit - float logit|`` (all logits, and those the output range can
    represent)."""
    xs = as_input(model, d.x_test)
    float_logits = model.forward_batch(xs)
    quant_logits = np.stack(
        [qmodel.dequantize_output(qmodel.forward_int(qmodel.quantize_input(x))) for x in xs]
    )
    f_top, q_top = float_logits.argmax(axis=1), quant_logits.argmax(axis=1)
    delta = np.abs(float_logits - quant_logits)
    lo, hi = qmodel.output_quant.dequantize(np.array(qmodel.output_quant.range))
    inside = (float_logits >= lo) & (float_logits <= hi)
    return Fidelity(
        float_accuracy=float(np.mean(f_top == d.y_test)),
        quant_accuracy=float(np.mean(q_top == d.y_test)),
        agreement=float(np.mean(f_top == q_top)),
        max_logit_delta=float(delta.max()),
        max_logit_delta_in_range=float(delta[inside].max()),
    )
