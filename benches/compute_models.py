"""Random float models of issue 13's shapes (MLP 784-32-10, CNN conv3x3x4-ReLU-avgpool2-dense10 on
28x28, and a LeNet-5-sized CNN), quantized on random uint8 images, written as QuantizedModel
JSON with an input, for ``circuits/examples/compute_speed.rs``:

    PYTHONPATH=python .venv/bin/python benches/compute_models.py /tmp/models
    cargo run --release --example compute_speed -p bigfile-circuits -- \
        /tmp/models/mlp.json /tmp/models/mlp_input.json

``build()`` gives the quantized MLP and CNN with their inputs in Python
(``benches/bench_compute.py``); ``float_models()`` the float models with their calibration
images (``benches/ezkl_compare.py``). The MLP and CNN are the same as before the builders were
split out (one generator seeded 1: MLP weights, CNN weights, then each model's calibration
images; the input is the first calibration image); LeNet draws from its own generator.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bigfile_zk import compute as c

FloatArray = npt.NDArray[np.float64]

#: The models this file builds.
NAMES = ("mlp", "cnn", "lenet")
#: Calibration images per model (``quantize``'s input ranges come from these).
CALIBRATION_IMAGES = 64
SEED = 1


def dense(rng: np.random.Generator, name: str, i: int, o: int) -> c.Dense:
    return c.Dense(name, rng.normal(0, 1 / np.sqrt(i), (o, i)), rng.normal(0, 0.1, o))


def conv(
    rng: np.random.Generator, name: str, cin: int, cout: int, k: int, pad: int = 0
) -> c.Conv2d:
    fan_in = cin * k * k
    return c.Conv2d(
        name,
        rng.normal(0, 1 / np.sqrt(fan_in), (cout, cin, k, k)),
        rng.normal(0, 0.1, cout),
        padding=pad,
    )


def mlp(rng: np.random.Generator) -> c.Model:
    """MLP 784-32-10 (ReLU)."""
    return c.Model((784,), [dense(rng, "fc1", 784, 32), c.ReLU("r1"), dense(rng, "fc2", 32, 10)])


def cnn(rng: np.random.Generator) -> c.Model:
    """Conv 3x3x4 → ReLU → AvgPool 2 → Flatten → Dense 10 on 1x28x28."""
    return c.Model(
        (1, 28, 28),
        [
            conv(rng, "conv", 1, 4, 3),
            c.ReLU("relu"),
            c.AvgPool("pool", kernel=2),
            c.Flatten("flat"),
            dense(rng, "fc", 4 * 13 * 13, 10),
        ],
    )


def lenet(rng: np.random.Generator) -> c.Model:
    """LeNet-5-sized: Conv 5x5x6 pad 2 → ReLU → AvgPool 2 → Conv 5x5x16 → ReLU → AvgPool 2 →
    Dense 120 → ReLU → Dense 84 → ReLU → Dense 10 on 1x28x28."""
    return c.Model(
        (1, 28, 28),
        [
            conv(rng, "conv1", 1, 6, 5, pad=2),
            c.ReLU("relu1"),
            c.AvgPool("pool1", kernel=2),
            conv(rng, "conv2", 6, 16, 5),
            c.ReLU("relu2"),
            c.AvgPool("pool2", kernel=2),
            c.Flatten("flat"),
            dense(rng, "fc1", 16 * 5 * 5, 120),
            c.ReLU("relu3"),
            dense(rng, "fc2", 120, 84),
            c.ReLU("relu4"),
            dense(rng, "fc3", 84, 10),
        ],
    )


def images(rng: np.random.Generator, shape: tuple[int, ...], n: int) -> FloatArray:
    """``n`` random uint8 images scaled to [0, 1] (multiples of 1/255)."""
    return rng.integers(0, 256, (n, *shape)).astype(np.float64) / 255


def float_models(
    names: tuple[str, ...] = NAMES, seed: int = SEED
) -> dict[str, tuple[c.Model, FloatArray]]:
    """Each named float model with its calibration images, the same for the same seed whatever
    ``names`` asks for (every model is drawn)."""
    rng = np.random.default_rng(seed)
    models = {"mlp": mlp(rng), "cnn": cnn(rng)}
    built = {
        name: (m, images(rng, m.input_shape, CALIBRATION_IMAGES)) for name, m in models.items()
    }
    rng = np.random.default_rng([seed, 5])
    m = lenet(rng)
    built["lenet"] = (m, images(rng, m.input_shape, CALIBRATION_IMAGES))
    unknown = set(names) - set(built)
    if unknown:
        raise ValueError(f"unknown model(s) {sorted(unknown)}; known: {', '.join(NAMES)}")
    return {name: built[name] for name in names}


def quantize(model: c.Model, calib: FloatArray) -> c.QuantizedModel:
    """Post-training quantization with uint8 pixels (scale 1/255) as input."""
    return c.quantize(model, calib, input_quant=c.TensorQuant("uint8", 1 / 255, 0))


def build(
    names: tuple[str, ...] = ("mlp", "cnn"),
) -> dict[str, tuple[c.QuantizedModel, npt.NDArray[np.int64]]]:
    """``{"mlp": (model, input), "cnn": (model, input)}`` quantized, the same on every call
    (seed 1); the input is the first calibration image."""
    built = {}
    for name, (m, calib) in float_models(names).items():
        q = quantize(m, calib)
        built[name] = (q, q.quantize_input(calib[0]))
    return built


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "/tmp/models")
    out.mkdir(parents=True, exist_ok=True)
    for name, (q, x) in build(NAMES).items():
        (out / f"{name}.json").write_text(json.dumps(q.to_dict()))
        values = [int(v) for v in np.asarray(x).ravel()]
        (out / f"{name}_input.json").write_text(json.dumps(values))
        print(f"{name}: {q.bounds.macs} MACs, {q.bounds.requants} requantized values")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
