"""Progress bars for long native calls (the native code calls ``reporter(bytes_done)``)."""

from __future__ import annotations

import sys

from tqdm import tqdm


class ProgressReporter:
    """A tqdm counter (of bytes unless ``unit`` says otherwise); ``enabled=None`` shows it only
    when stderr is a terminal."""

    def __init__(self, total: int, desc: str, enabled: bool | None = None, unit: str = "B") -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.desc = desc
        self._bar = tqdm(
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=unit == "B",
            unit_divisor=1024,
            disable=not enabled,
            leave=False,
        )

    def __call__(self, done: int) -> None:
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
