"""Random float models of issue 13's shapes (MLP 784-32-10, CNN conv3x3x4-ReLU-avgpool2-dense10 on
28x28), quantized on random uint8 images, written as QuantizedModel JSON with an input, for
``circuits/examples/compute_speed.rs``:

    PYTHONPATH=python .venv/bin/python benches/compute_models.py /tmp/models
    cargo run --release --example compute_speed -p bigfile-circuits -- \
        /tmp/models/mlp.json /tmp/models/mlp_input.json

``build()`` gives the same models and inputs in Python (``benches/bench_compute.py``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bigfile_zk import compute as c


def build() -> dict[str, tuple[c.QuantizedModel, npt.NDArray[np.int64]]]:
    """``{"mlp": (model, input), "cnn": (model, input)}``, the same on every call (seed 1)."""
    rng = np.random.default_rng(1)

    def dense(name: str, i: int, o: int) -> c.Dense:
        return c.Dense(name, rng.normal(0, 1 / np.sqrt(i), (o, i)), rng.normal(0, 0.1, o))

    mlp = c.Model((784,), [dense("fc1", 784, 32), c.ReLU("r1"), dense("fc2", 32, 10)])
    cnn = c.Model(
        (1, 28, 28),
        [
            c.Conv2d("conv", rng.normal(0, 1 / 3, (4, 1, 3, 3)), rng.normal(0, 0.1, 4)),
            c.ReLU("relu"),
            c.AvgPool("pool", kernel=2),
            c.Flatten("flat"),
            dense("fc", 4 * 13 * 13, 10),
        ],
    )
    built = {}
    for name, m, shape in [("mlp", mlp, (784,)), ("cnn", cnn, (1, 28, 28))]:
        calib = rng.integers(0, 256, (64, *shape)).astype(np.float64) / 255
        q = c.quantize(m, calib, input_quant=c.TensorQuant("uint8", 1 / 255, 0))
        built[name] = (q, q.quantize_input(calib[0]))
    return built


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else "/tmp/models")
    out.mkdir(parents=True, exist_ok=True)
    for name, (q, x) in build().items():
        (out / f"{name}.json").write_text(json.dumps(q.to_dict()))
        values = [int(v) for v in np.asarray(x).ravel()]
        (out / f"{name}_input.json").write_text(json.dumps(values))
        print(f"{name}: {q.bounds.macs} MACs, {q.bounds.requants} requantized values")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
