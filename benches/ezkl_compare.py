"""Proof-of-compute side by side with EZKL (issue 13), on the same float models in one session.

    PYTHONPATH=python .venv/bin/python benches/ezkl_compare.py [--models mlp,cnn] \
        [--out results.json] [--repeats 2] [--no-ezkl]

For each model of ``benches/compute_models.py`` (fixed seeds): export the float model to ONNX
with ``bigfile_zk.compute.to_onnx`` (Gemm / Conv / Relu / pools / Flatten, float32
weights) and check it with onnxruntime against ``Model.forward_batch``; run EZKL end to end
through its Python API (default settings, ``calibrate_settings`` with target ``resources`` on
the model's first calibration images, a local ``gen_srs``, setup, witness, prove, verify); run
bigfile_zk on the same model (``quantize`` on the calibration images, ``compile``, insecure
test SRS, setup, prove, verify). EZKL's setup and every "fresh process" proof run in a child
process (this script with ``--worker``), whose peak RSS is read with ``os.wait4`` (the table
shows the largest over the rounds).

Proofs are taken interleaved (EZKL, ours in a fresh process, ours warm, and again), so a
load change on a shared machine hits both sides. With each step goes ``others_cpu``: the share
of the machine's CPU time that other processes used while it ran (``/proc/stat`` minus the
step's own CPU time); ``--quiet`` waits for an idle machine before each round.
"Warm" for ours is ``CompiledModel.prove`` with the proving key in memory; EZKL's Python API
proves from files only (``ezkl.prove`` reads the proving key and the SRS from disk each call),
so its figure is compared with both ours warm and ours in a fresh process (key decoded from
bytes, then proved).

Prints Markdown tables and writes everything measured as JSON (``--out``). Without ``ezkl``,
``onnx`` or ``onnxruntime`` (the ``bench-ezkl`` extra of pyproject.toml:
``.venv/bin/pip install ezkl==23.0.5 onnx onnxruntime``) the EZKL side is skipped with a
message and bigfile_zk's still runs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import inspect
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))
import compute_models as cm

import bigfile_zk
from bigfile_zk import SRS
from bigfile_zk import compute as c

FloatArray = npt.NDArray[np.float64]
Json = dict[str, Any]

PROVIDER = "0x" + "ab" * 20
JOB = 13
#: Images EZKL calibrates on (the first of the model's calibration set; ours uses all 64).
EZKL_CALIBRATION_IMAGES = 16
#: Held-out images both sides' outputs are compared with the float model on.
FIDELITY_IMAGES = 16
TEST_SEED = 2026
OPSET = 13


# --- the float model as ONNX ------------------------------------------------------------------


def onnx_max_diff(path: Path, model: c.Model, xs: FloatArray) -> float:
    """max |onnxruntime(ONNX) - Model.forward_batch| over ``xs``, one image at a time."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = model.forward_batch(xs)
    got = np.stack([session.run(None, {c.INPUT: x[None].astype(np.float32)})[0][0] for x in xs])
    return float(np.max(np.abs(got - want)))


# --- the machine's other load -----------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def busy_seconds() -> float | None:
    """CPU seconds spent not idle since boot, all CPUs (``/proc/stat``; None elsewhere)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def others_share(busy_before: float | None, own: float, wall: float) -> float | None:
    """The share of all CPUs' time over ``wall`` seconds that went to other processes, given
    the busy time at the start and this step's own CPU seconds."""
    busy_after = busy_seconds()
    if busy_before is None or busy_after is None or wall <= 0:
        return None
    return max(0.0, busy_after - busy_before - own) / (wall * (os.cpu_count() or 1))


def wait_for_quiet(max_others: float | None, max_wait: float, sample: float = 3.0) -> Json:
    """Wait (at most ``max_wait`` s) until other processes use at most ``max_others`` of the
    CPUs over a ``sample``-second window; return the seconds waited and the last share."""
    start = time.monotonic()
    share = None
    while max_others is not None:
        busy, t = busy_seconds(), time.monotonic()
        time.sleep(sample)
        share = others_share(busy, 0.0, time.monotonic() - t)
        if share is None or share <= max_others or time.monotonic() - start >= max_wait:
            break
    return {"waited_seconds": time.monotonic() - start, "others_cpu_before": share}


# --- child processes: peak RSS of one step ----------------------------------------------------


def run_worker(task: Json, work: Path, timeout: float) -> Json:
    """Run ``task`` in ``python ezkl_compare.py --worker`` and return its result with the
    child's peak RSS (``ru_maxrss`` of ``os.wait4``, KiB on Linux) and exit status."""
    spec = work / f"task-{task['kind']}.json"
    result = work / f"result-{task['kind']}.json"
    result.unlink(missing_ok=True)
    spec.write_text(json.dumps({**task, "result": str(result)}))
    log = work / f"log-{task['kind']}.txt"
    busy = busy_seconds()
    start = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(spec)], stdout=out, stderr=out
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    out_json: Json = json.loads(result.read_text()) if result.exists() else {}
    out_json.update(
        peak_rss_mib=usage.ru_maxrss / 1024,
        process_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        others_cpu=others_share(busy, usage.ru_utime + usage.ru_stime, wall),
        exit_code=proc.returncode,
        timed_out=wall > timeout,
    )
    if proc.returncode != 0 or "error" in out_json:
        tail = log.read_text(errors="replace")[-2000:]
        out_json.setdefault("error", f"exit {proc.returncode}: {tail}")
    return out_json


def worker(spec_path: str) -> int:
    """The child side of :func:`run_worker`: one step, timed around the call only."""
    task: Json = json.loads(Path(spec_path).read_text())
    out: Json = {}
    try:
        if task["kind"] == "ezkl-setup":
            import ezkl

            start = time.perf_counter()
            ok = ezkl.setup(task["compiled"], task["vk"], task["pk"], task["srs"])
            out = {"seconds": time.perf_counter() - start, "ok": bool(ok)}
        elif task["kind"] == "ezkl-prove":
            import ezkl

            start = time.perf_counter()
            ezkl.prove(task["witness"], task["compiled"], task["pk"], task["proof"], task["srs"])
            out = {"seconds": time.perf_counter() - start}
        elif task["kind"] == "ours-prove":
            q = c.QuantizedModel.from_dict(json.loads(Path(task["model"]).read_text()))
            x = np.asarray(json.loads(Path(task["input"]).read_text()), dtype=np.int64)
            start = time.perf_counter()
            compiled = c.compile(q)
            pk = bigfile_zk.plonk.ProvingKey.from_bytes(Path(task["pk"]).read_bytes())
            loaded = time.perf_counter() - start
            start = time.perf_counter()
            proof = compiled.prove(pk, x.reshape(q.input_shape), job=JOB, provider=PROVIDER)
            out = {
                "load_seconds": loaded,
                "seconds": time.perf_counter() - start,
                "proof_bytes": len(proof.proof.to_evm_bytes()),
            }
        else:
            raise ValueError(f"unknown task {task['kind']!r}")
    except Exception as e:  # reported to the parent, which records it
        out = {"error": f"{type(e).__name__}: {e}"}
    Path(task["result"]).write_text(json.dumps(out))
    return 0 if "error" not in out else 1


# --- bigfile_zk -------------------------------------------------------------------------------


def timed(f: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = f()
    return value, time.perf_counter() - start


def fidelity(y: FloatArray, want: FloatArray) -> Json:
    """max |y - float| and top-1 agreement of outputs ``y`` (``[N, 10]``) with the float's."""
    return {
        "max_abs_delta": float(np.max(np.abs(y - want))),
        "top1_agreement": float(np.mean(np.argmax(y, axis=1) == np.argmax(want, axis=1))),
    }


class Ours:
    """bigfile_zk's side for one model: everything up to the keys, then proofs on demand."""

    def __init__(self, model: c.Model, calib: FloatArray, xs: FloatArray, work: Path) -> None:
        self.result: Json = {
            "system": "bigfile_zk",
            "version": importlib.metadata.version("bigfile_zk"),
        }
        r = self.result
        self.q, r["quantize_seconds"] = timed(lambda: cm.quantize(model, calib))
        self.compiled, r["compile_seconds"] = timed(lambda: c.compile(self.q))
        report = self.compiled.report()
        r.update(rows=report["rows"], k=report["k"], report=report)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the insecure SRS warns
            start = time.perf_counter()
            srs = SRS.insecure_for_testing(self.compiled.srs_max_degree, 13)
            r["srs_seconds"] = time.perf_counter() - start
        busy, own, start = busy_seconds(), own_cpu_seconds(), time.perf_counter()
        self.pk = self.compiled.setup(srs)
        r["setup_seconds"] = time.perf_counter() - start
        r["setup_others_cpu"] = others_share(busy, own_cpu_seconds() - own, r["setup_seconds"])
        pk_bytes = self.pk.to_bytes()
        r["pk_bytes"] = len(pk_bytes)
        r["vk_bytes"] = len(self.pk.vk.to_bytes())
        self.x_int = self.q.quantize_input(xs[0])
        self.pk_path, self.model_path, self.input_path = (
            work / "ours.pk",
            work / "ours_model.json",
            work / "ours_input.json",
        )
        self.pk_path.write_bytes(pk_bytes)
        self.model_path.write_text(json.dumps(self.q.to_dict()))
        self.input_path.write_text(json.dumps([int(v) for v in self.x_int.ravel()]))
        ys = np.stack(
            [self.q.dequantize_output(self.q.forward_int(self.q.quantize_input(x))) for x in xs]
        )
        want = model.forward_batch(xs)
        r["test_input"] = fidelity(ys[:1], want[:1])
        r["fidelity"] = {"images": len(xs), **fidelity(ys, want)}
        r["prove_warm"], r["prove_process"] = [], []

    def prove_warm(self) -> None:
        busy, own = busy_seconds(), own_cpu_seconds()
        proof, seconds = timed(
            lambda: self.compiled.prove(
                self.pk, self.x_int, job=JOB, provider=PROVIDER, progress=False
            )
        )
        own = own_cpu_seconds() - own
        run = {
            "seconds": seconds,
            "cpu_seconds": own,
            "others_cpu": others_share(busy, own, seconds),
        }
        commitment = bigfile_zk.commit_bytes(self.q.input_bytes(self.x_int)).commitment
        ok, verify_seconds = timed(
            lambda: c.verify(
                self.pk.vk,
                proof,
                input_commitment=commitment,
                job=JOB,
                provider=PROVIDER,
                outputs=self.compiled.expected_outputs(self.q.forward_int(self.x_int)),
                allow_insecure_srs=True,
            )
        )
        r = self.result
        r["prove_warm"].append(run)
        r.update(
            verify_ok=bool(ok) and r.get("verify_ok", True),
            verify_seconds=verify_seconds,
            proof_bytes=len(proof.proof.to_evm_bytes()),
            public_inputs=len(proof.public_inputs),
        )

    def prove_process(self, work: Path, timeout: float) -> None:
        task = {
            "kind": "ours-prove",
            "pk": str(self.pk_path),
            "model": str(self.model_path),
            "input": str(self.input_path),
        }
        self.result["prove_process"].append(run_worker(task, work, timeout))


# --- EZKL -------------------------------------------------------------------------------------


def _sync(value: Any) -> Any:
    """``value``, awaited if an EZKL call returned an awaitable (``calibrate_settings`` and
    ``get_srs`` were async in some versions)."""
    if inspect.isawaitable(value):

        async def wait() -> Any:
            return await value

        return asyncio.run(wait())
    return value


class Ezkl:
    """EZKL's side for one model, files under ``work``."""

    def __init__(
        self,
        name: str,
        model: c.Model,
        calib: FloatArray,
        xs: FloatArray,
        work: Path,
        timeout: float,
        input_visibility: str | None = None,
    ) -> None:
        import ezkl

        self.work, self.timeout = work, timeout
        self.result: Json = {"system": "ezkl", "version": importlib.metadata.version("ezkl")}
        r = self.result
        p = {
            key: str(work / f"ezkl_{key}{ext}")
            for key, ext in [
                ("onnx", ".onnx"),
                ("settings", ".json"),
                ("calibration", ".json"),
                ("input", ".json"),
                ("compiled", ".ezkl"),
                ("witness", ".json"),
                ("vk", ".key"),
                ("pk", ".key"),
                ("proof", ".json"),
            ]
        }
        self.paths = p
        import onnx

        onnx.save(c.to_onnx(model, name, opset=OPSET), p["onnx"])
        r["onnx_max_abs_diff"] = onnx_max_diff(
            Path(p["onnx"]), model, np.concatenate([xs, calib[:8]])
        )
        # EZKL's data files: one flat list per model input; a longer list is a batch of samples.
        Path(p["calibration"]).write_text(
            json.dumps({"input_data": [calib[:EZKL_CALIBRATION_IMAGES].ravel().tolist()]})
        )
        Path(p["input"]).write_text(json.dumps({"input_data": [xs[0].ravel().tolist()]}))
        run_args = None
        if input_visibility is not None:
            run_args = ezkl.PyRunArgs()
            run_args.input_visibility = input_visibility
        _, r["gen_settings_seconds"] = timed(
            lambda: ezkl.gen_settings(p["onnx"], p["settings"], run_args)
        )
        _, r["calibrate_seconds"] = timed(
            lambda: _sync(
                ezkl.calibrate_settings(p["calibration"], p["onnx"], p["settings"], "resources")
            )
        )
        r["calibration_images"] = EZKL_CALIBRATION_IMAGES
        settings = json.loads(Path(p["settings"]).read_text())
        args = settings["run_args"]
        r.update(
            logrows=args["logrows"],
            rows=settings.get("num_rows"),
            settings={
                key: settings.get(key)
                for key in (
                    "num_rows",
                    "total_assignments",
                    "total_const_size",
                    "required_lookups",
                    "required_range_checks",
                    "model_output_scales",
                )
            }
            | {"run_args": args},
        )
        _, r["compile_seconds"] = timed(
            lambda: ezkl.compile_circuit(p["onnx"], p["compiled"], p["settings"])
        )
        srs = work.parent / f"ezkl_kzg{args['logrows']}.srs"  # shared by models of one size
        if not srs.exists():
            _, r["gen_srs_seconds"] = timed(lambda: ezkl.gen_srs(str(srs), args["logrows"]))
        self.paths["srs"] = str(srs)
        r["srs_bytes"] = srs.stat().st_size
        _, r["witness_seconds"] = timed(
            lambda: ezkl.gen_witness(p["input"], p["compiled"], p["witness"])
        )
        setup = run_worker(
            {
                "kind": "ezkl-setup",
                "compiled": p["compiled"],
                "vk": p["vk"],
                "pk": p["pk"],
                "srs": str(srs),
            },
            work,
            timeout,
        )
        r["setup"] = setup
        r["setup_seconds"] = setup.get("seconds")
        if "error" in setup:
            raise RuntimeError(f"ezkl setup: {setup['error']}")
        r["pk_bytes"] = Path(p["pk"]).stat().st_size
        r["vk_bytes"] = Path(p["vk"]).stat().st_size
        want = model.forward_batch(xs)
        ys = np.stack([self.outputs(ezkl, x, i) for i, x in enumerate(xs)])
        r["test_input"] = fidelity(ys[:1], want[:1])
        r["fidelity"] = {"images": len(xs), **fidelity(ys, want)}
        r["prove"] = []

    def outputs(self, ezkl: Any, x: FloatArray, i: int) -> FloatArray:
        """EZKL's dequantized outputs on ``x`` (from a witness; the test input's is kept)."""
        witness = Path(self.paths["witness"])
        if i > 0:
            data, witness = self.work / "ezkl_x.json", self.work / "ezkl_x_witness.json"
            data.write_text(json.dumps({"input_data": [x.ravel().tolist()]}))
            ezkl.gen_witness(str(data), self.paths["compiled"], str(witness))
        w = json.loads(witness.read_text())
        return np.asarray(w["pretty_elements"]["rescaled_outputs"][0], dtype=np.float64)

    def prove(self) -> None:
        import ezkl

        p = self.paths
        task = {
            "kind": "ezkl-prove",
            **{k: p[k] for k in ("witness", "compiled", "pk", "proof", "srs")},
        }
        run = run_worker(task, self.work, self.timeout)
        r = self.result
        r["prove"].append(run)
        if "error" in run:
            raise RuntimeError(f"ezkl prove: {run['error']}")
        ok, r["verify_seconds"] = timed(
            lambda: ezkl.verify(p["proof"], p["settings"], p["vk"], p["srs"])
        )
        proof = json.loads(Path(p["proof"]).read_text())
        r.update(
            verify_ok=bool(ok) and r.get("verify_ok", True),
            proof_bytes=len(proof["proof"]),  # = the bytes of hex_proof, what goes on chain
            public_inputs=sum(len(v) for v in proof["instances"]),
        )


# --- the session ------------------------------------------------------------------------------


def best(runs: list[Json], key: str = "seconds", pick: Callable[..., Any] = min) -> float | None:
    """The smallest (or ``pick``) ``key`` over the runs that did not fail."""
    values = [run[key] for run in runs if run.get(key) is not None and "error" not in run]
    return float(pick(values)) if values else None


def environment() -> Json:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("bigfile_zk", "ezkl", "onnx", "onnxruntime", "numpy"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "load_at_start": os.getloadavg(),
        "others_cpu_at_start": wait_for_quiet(0.0, 0.0)["others_cpu_before"],
    }


def fmt(value: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def table(results: dict[str, Json]) -> str:
    lines = [
        "| model | system | rows | 2^k | setup | prove (warm) | prove (from key file) | "
        "peak RSS (prove process) | proof | public inputs | proving key | verify | "
        "max abs Δ vs float (test input / all) | top-1 agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    ratios = [
        "| model | EZKL prove / ours warm | EZKL prove / ours from key file | EZKL rows / ours | "
        "others' CPU share during the proofs (EZKL / ours warm / ours from file) |",
        "|---|---|---|---|---|",
    ]
    for name, res in results.items():
        ours, ez = res.get("bigfile_zk"), res.get("ezkl")
        if ours:
            lines.append(
                f"| {name} | bigfile_zk | {ours['rows']:,} | {ours['k']} | "
                f"{fmt(ours['setup_seconds'], '.2f', ' s')} | "
                f"{fmt(best(ours['prove_warm']), '.2f', ' s')} | "
                f"{fmt(_sum_best(ours['prove_process']), '.2f', ' s')} | "
                f"{fmt(best(ours['prove_process'], 'peak_rss_mib', max), ',.0f', ' MiB')} | "
                f"{ours.get('proof_bytes', '—')} B | {ours.get('public_inputs', '—')} | "
                f"{ours['pk_bytes'] / 2**20:,.1f} MiB | {_ok(ours.get('verify_ok'))} | "
                f"{ours['test_input']['max_abs_delta']:.4f} / "
                f"{ours['fidelity']['max_abs_delta']:.4f} | "
                f"{ours['fidelity']['top1_agreement']:.0%} of {ours['fidelity']['images']} |"
            )
        if ez and "error" not in ez:
            lines.append(
                f"| {name} | EZKL {ez['version']} | {fmt(ez.get('rows'), ',')} | {ez['logrows']} | "
                f"{fmt(ez.get('setup_seconds'), '.2f', ' s')} | — | "
                f"{fmt(best(ez['prove']), '.2f', ' s')} | "
                f"{fmt(best(ez['prove'], 'peak_rss_mib', max), ',.0f', ' MiB')} | "
                f"{ez.get('proof_bytes', '—')} B | {ez.get('public_inputs', '—')} | "
                f"{ez['pk_bytes'] / 2**20:,.1f} MiB | {_ok(ez.get('verify_ok'))} | "
                f"{ez['test_input']['max_abs_delta']:.4f} / "
                f"{ez['fidelity']['max_abs_delta']:.4f} | "
                f"{ez['fidelity']['top1_agreement']:.0%} of {ez['fidelity']['images']} |"
            )
        elif ez:
            lines.append(f"| {name} | EZKL | failed: {ez['error'][:200]} |" + " |" * 12)
        if ours and ez and "error" not in ez:
            e, w, f = best(ez["prove"]), best(ours["prove_warm"]), _sum_best(ours["prove_process"])
            ratios.append(
                f"| {name} | {fmt(e / w if e and w else None, '.1f', 'x')} | "
                f"{fmt(e / f if e and f else None, '.1f', 'x')} | "
                f"{fmt(ez['rows'] / ours['rows'] if ez.get('rows') else None, '.2f', 'x')} | "
                f"{_others(ez['prove'])} / {_others(ours['prove_warm'])} / "
                f"{_others(ours['prove_process'])} |"
            )
    return "\n".join(lines) + "\n\n" + "\n".join(ratios) + "\n"


def _others(runs: list[Json]) -> str:
    """The range of other processes' CPU share over ``runs``."""
    shares = [run["others_cpu"] for run in runs if run.get("others_cpu") is not None]
    if not shares:
        return "—"
    return f"{min(shares):.0%}..{max(shares):.0%}"


def _sum_best(runs: list[Json]) -> float | None:
    """The smallest key load + prove of the fresh-process runs."""
    values = [
        run["load_seconds"] + run["seconds"]
        for run in runs
        if "error" not in run and "seconds" in run
    ]
    return min(values) if values else None


def _ok(value: object) -> str:
    return "ok" if value is True else "FAILED" if value is False else "—"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", default="mlp,cnn", help=f"comma-separated: {', '.join(cm.NAMES)}"
    )
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--repeats", type=int, default=2, help="proofs per side (the best is shown)"
    )
    parser.add_argument("--no-ezkl", action="store_true", help="bigfile_zk only")
    parser.add_argument(
        "--ezkl-models", help="run EZKL on these models only (default: all of --models)"
    )
    parser.add_argument(
        "--ezkl-input-visibility",
        help="EZKL's input_visibility (default EZKL's: public; 'hashed' makes the input private "
        "with its Poseidon hash public, closer to our input commitment)",
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds per child process")
    parser.add_argument(
        "--quiet",
        type=float,
        metavar="SHARE",
        help="before setup and each round of proofs, wait (up to --max-wait s) until other "
        "processes use at most this share of the CPUs (e.g. 0.05; a shared machine)",
    )
    parser.add_argument("--max-wait", type=float, default=300)
    parser.add_argument("--work", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)

    names = tuple(n.strip() for n in args.models.split(",") if n.strip())
    ezkl_names = set(names if args.ezkl_models is None else args.ezkl_models.split(","))
    ezkl_names = {n.strip() for n in ezkl_names}
    use_ezkl = not args.no_ezkl
    if use_ezkl:
        try:
            import ezkl  # noqa: F401
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError as e:
            print(
                f"EZKL side skipped: {e.name} is not installed "
                "(pip install ezkl==23.0.5 onnx onnxruntime: the bench-ezkl extra); "
                "bigfile_zk only.",
                file=sys.stderr,
            )
            use_ezkl = False

    models = cm.float_models(names)
    rng = np.random.default_rng(TEST_SEED)
    session: Json = {"environment": environment(), "repeats": args.repeats, "models": {}}
    with tempfile.TemporaryDirectory(prefix="ezkl_compare_") as tmp:
        root = args.work or Path(tmp)
        for name, (model, calib) in models.items():
            work = root / name
            work.mkdir(parents=True, exist_ok=True)
            xs = cm.images(rng, model.input_shape, FIDELITY_IMAGES)
            res: Json = {"macs": None}
            session["models"][name] = res
            print(f"== {name}: bigfile_zk setup", file=sys.stderr, flush=True)
            wait_for_quiet(args.quiet, args.max_wait)
            ours = Ours(model, calib, xs, work)
            res["macs"] = ours.q.bounds.macs
            res["bigfile_zk"] = ours.result
            ez: Ezkl | None = None
            if use_ezkl and name in ezkl_names:
                print(
                    f"== {name}: EZKL settings, calibration, SRS, setup",
                    file=sys.stderr,
                    flush=True,
                )
                wait_for_quiet(args.quiet, args.max_wait)
                try:
                    ez = Ezkl(
                        name, model, calib, xs, work, args.timeout, args.ezkl_input_visibility
                    )
                    res["ezkl"] = ez.result
                except Exception as e:
                    res["ezkl"] = {"error": f"{type(e).__name__}: {e}"}
                    print(f"   EZKL failed: {res['ezkl']['error']}", file=sys.stderr)
            for i in range(args.repeats):
                quiet = wait_for_quiet(args.quiet, args.max_wait)
                res.setdefault("rounds", []).append(quiet)
                print(
                    f"== {name}: proofs, round {i + 1} (waited {quiet['waited_seconds']:.0f} s, "
                    f"others' CPU share {quiet['others_cpu_before']})",
                    file=sys.stderr,
                    flush=True,
                )
                if ez is not None:
                    try:
                        ez.prove()
                    except Exception as e:
                        res["ezkl"]["error"] = f"{type(e).__name__}: {e}"
                        print(f"   EZKL failed: {e}", file=sys.stderr)
                        ez = None
                ours.prove_process(work, args.timeout)
                ours.prove_warm()
            if args.out:
                args.out.write_text(json.dumps(session, indent=1))
    session["environment"]["load_at_end"] = os.getloadavg()
    text = table(session["models"])
    print(text)
    if args.out:
        session["table"] = text
        args.out.write_text(json.dumps(session, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
