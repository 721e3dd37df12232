"""Float vs quantized models on scikit-learn's digits, as a Markdown table.

    PYTHONPATH=python .venv/bin/python benches/compute_fidelity.py

Trains (seeded) the two models of tests/digits_models.py, a 64-32-10 ReLU MLP
(scikit-learn's MLPClassifier) and a CNN (Conv 3x3x4 pad 1 → ReLU → AvgPool 2 → Dense 10,
numpy), quantizes them with the first 300 training images as calibration (input: the pixels
0..16 as uint8, scale 1/16) and compares them on the held-out quarter (450 images): top-1
accuracy of each, top-1 agreement, and the largest |dequantized - float| logit, over all
logits and over those inside the output's representable range (the difference is calibration
clipping of very negative logits the calibration images never produced). Then the integer
program's size as the bounds analysis reports it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import digits_models as dm


def main() -> int:
    digits = dm.load()
    rows = []
    for name, train in (
        ("MLP 64-32-10", dm.train_mlp),
        ("CNN conv3x3x4-avgpool2-dense10", dm.train_cnn),
    ):
        start = time.perf_counter()
        model = train(digits)
        trained = time.perf_counter() - start
        qmodel = dm.quantize_digits(model, digits)
        start = time.perf_counter()
        f = dm.fidelity(model, qmodel, digits)
        per_image = (time.perf_counter() - start) / len(digits.x_test)
        rows.append((name, trained, per_image, f, qmodel))

    print(
        "| model | float top-1 | quantized top-1 | top-1 agreement | max abs Δ logit | "
        "max abs Δ logit (in range) | output scale |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, _, _, f, q in rows:
        print(
            f"| {name} | {f.float_accuracy:.2%} | {f.quant_accuracy:.2%} | {f.agreement:.2%} | "
            f"{f.max_logit_delta:.3f} | {f.max_logit_delta_in_range:.3f} | "
            f"{q.output_quant.scale:.4f} |"
        )
    print()
    print(
        "| model | MACs | requantized values | max acc bits | shifts | train (s) | "
        "oracle + float per image (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, trained, per_image, _, q in rows:
        b = q.bounds
        shifts = [n.shift for n in b if n.shift is not None]
        lo, hi = min(s.lo for s in shifts), max(s.hi for s in shifts)
        print(
            f"| {name} | {b.macs:,} | {b.requants:,} | {b.max_acc_bits} | {lo}..{hi} | "
            f"{trained:.1f} | {per_image * 1e3:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
