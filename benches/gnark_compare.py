"""PLONK side by side with gnark (issue 15): the same statements, the same machine, one run.

    PATH=/usr/local/go/bin:$PATH GNARK_DIR=/path/to/gnark \
        PYTHONPATH=python .venv/bin/python benches/gnark_compare.py [--big] [--rounds 2] \
        [--statements chain,hash] [--out results.json] [--quiet 0.05]

gnark is a benchmark-only comparator, never a dependency. When ``go`` is on PATH and
``GNARK_DIR`` names a gnark checkout (its source from the public repository: gnark is not
served by the Go module proxy), this script writes a go.mod with ``replace
github.com/consensys/gnark => $GNARK_DIR`` into a temporary directory next to a copy of
``benches/gnark/main.go``, resolves the other modules (gnark-crypto included) through the Go
module proxy (``GOFLAGS=-mod=mod``) and builds it. Without them it says how to get them and
exits 0 ("skipped"): nothing else is measured.

Statements (both sides prove the same relation, the output a public input):

* ``chain``: ``x ← x·x + c`` for S steps (c = 7, x₀ = 3 private). gnark: one SparseR1CS
  constraint per step (``frontend.PlonkAPI.EvaluatePlonkExpression``; see
  ``benches/gnark/README.md``). Ours: ``Builder.mul_add(x, x, constant=c)``, one row per step.
* ``hash``: N steps of ``(x, y) ← (y, H(x, y))``. gnark: Poseidon2 width 2 compression
  (``std/permutation/poseidon2``, ``Compress``). Ours: ``Builder.poseidon([x, y])`` (Poseidon,
  width 3, its custom gate). Different hash functions of the same shape, each side's best gadget
  for a 2-to-1 hash: the comparison is of the statement "a chain of N 2-to-1 hashes".

Each run (compile/build, insecure test SRS, setup, prove, verify) is one child process, gnark
and ours interleaved round by round (gnark, ours, gnark, ours), so a load change on a shared
machine hits both. Peak RSS is each child's own ``VmHWM`` (the whole run: setup and prove);
``others_cpu`` is the share of the machine's CPU time other processes used while it ran.
Times are the best over the rounds. Both sides use an insecure test SRS (its generation,
``srs_s``, is not part of setup); gnark runs with GOMAXPROCS = the machine's cores.

Sizes: the chain fills a 2^16 domain on both sides (65,400 steps; ``--big``: 2^20, 1,048,000
steps); the hash chain is 962 hashes (2^16 rows for ours, 2^19 for gnark's 301 constraints per
hash). ``--chain-steps`` / ``--hashes`` override them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ezkl_compare as ec  # the machine-load helpers (others_cpu, --quiet)

Json = dict[str, Any]

HERE = Path(__file__).resolve().parent
GO_SOURCE = HERE / "gnark" / "main.go"
CHAIN_CONSTANT = 7  # main.go's chainConstant
CHAIN_START = 3
CHAIN_STEPS = {False: 65_400, True: 1_048_000}  # --big: fills 2^16 / 2^20 on both sides
HASHES = 962  # 68 rows each: 2^16 rows for ours
STATEMENTS = ("chain", "hash")

HOW_TO = """\
gnark side by side: skipped ({why}).
To run it: Go >= 1.25 on PATH (e.g. PATH=/usr/local/go/bin:$PATH) and a gnark source checkout
in GNARK_DIR, e.g.
    git clone --depth 1 --branch v0.16.1 https://github.com/Consensys/gnark "$HOME/gnark"
    export GNARK_DIR="$HOME/gnark"
(gnark itself is not on the Go module proxy; its dependencies are fetched from it.)"""


# --- building the Go comparator ---------------------------------------------------------------


def gnark_requirements(gnark_dir: Path) -> tuple[str, str]:
    """The ``go`` version and the gnark-crypto version of gnark's go.mod (our go.mod pins the
    same gnark-crypto: ``main.go`` imports it directly, which would otherwise pull the newest)."""
    go = crypto = None
    for line in (gnark_dir / "go.mod").read_text().splitlines():
        words = line.split()
        if words[:1] == ["go"] and len(words) == 2:
            go = words[1]
        elif words[:1] == ["github.com/consensys/gnark-crypto"] and len(words) >= 2:
            crypto = words[1]
    if go is None or crypto is None:
        raise ValueError(f"{gnark_dir / 'go.mod'} names no go version or no gnark-crypto")
    return go, crypto


def build_gnark(go: str, gnark_dir: Path, work: Path, crypto: str | None) -> Path:
    """Build ``benches/gnark/main.go`` against ``gnark_dir`` in ``work`` (gnark-crypto at
    ``crypto``, default: the version gnark's go.mod requires); the binary's path."""
    go_version, gnark_crypto = gnark_requirements(gnark_dir)
    build = work / "gnarkbench"
    build.mkdir(parents=True, exist_ok=True)
    shutil.copy(GO_SOURCE, build / "main.go")
    (build / "go.mod").write_text(
        "module bfzk/gnarkbench\n\n"
        f"go {go_version}\n\n"
        f"require github.com/consensys/gnark-crypto {crypto or gnark_crypto}\n\n"
        f"replace github.com/consensys/gnark => {gnark_dir}\n"
    )
    env = {**os.environ, "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    for cmd in ([go, "mod", "tidy"], [go, "build", "-o", "gnarkbench", "."]):
        done = subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return build / "gnarkbench"


def peak_rss() -> int | None:
    """This process's peak RSS in bytes: ``VmHWM`` of /proc/self/status (None elsewhere).

    Not ``ru_maxrss`` of ``os.wait4``: Linux carries it across ``exec``, so a child forked from
    this Python process reports at least the parent's RSS (~45 MiB here)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


# --- our side (a child process: python gnark_compare.py --worker STATEMENT STEPS) ------------


def chain_circuit(steps: int) -> Any:
    def circuit(b: Any) -> None:
        x = b.private_input("x")
        for _ in range(steps):
            x = b.mul_add(x, x, constant=CHAIN_CONSTANT)
        b.assert_equal(x, b.public_input("out"))

    return circuit


def hash_circuit(steps: int) -> Any:
    def circuit(b: Any) -> None:
        x, y = b.private_input("x"), b.private_input("y")
        for _ in range(steps):
            x, y = y, b.poseidon([x, y])
        b.assert_equal(y, b.public_input("out"))

    return circuit


def ours(statement: str, steps: int) -> Json:
    """One run of ours; the timings of each step."""
    import bigfile_zk as bz
    from bigfile_zk import plonk
    from bigfile_zk.errors import InsecureSRSWarning
    from bigfile_zk.field import MODULUS

    if statement == "chain":
        circuit = chain_circuit(steps)
        x = CHAIN_START
        for _ in range(steps):
            x = (x * x + CHAIN_CONSTANT) % MODULUS
        values = {"x": CHAIN_START, "out": x}
    else:
        circuit = hash_circuit(steps)
        x, y = 1, 2
        for _ in range(steps):
            x, y = y, bz.poseidon([x, y])
        values = {"x": 1, "y": 2, "out": y}

    start = time.perf_counter()
    b = plonk.Builder()
    circuit(b)
    rows = b.num_rows
    built = b.build()
    compile_s = time.perf_counter() - start
    n = 2**built.k
    del built, b  # only its size was needed: the circuit is laid out again by setup and prove
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        # The SRS each circuit needs (plonk.md §3): 5n + 9 with the Poseidon round gate
        # (the hash chain), 3n + 9 without (the chain).
        srs = bz.SRS.insecure_for_testing(5 * n + 9 if statement == "hash" else 3 * n + 9)
    srs_s = time.perf_counter() - start
    start = time.perf_counter()
    pk = plonk.setup(circuit, srs)  # lays the circuit out again (≈ compile_s) and sets up
    setup_s = time.perf_counter() - start
    start = time.perf_counter()
    proof = plonk.prove(pk, circuit, values, progress=False)
    prove_s = time.perf_counter() - start
    start = time.perf_counter()
    ok = plonk.verify(pk.vk, proof, [values["out"]], allow_insecure_srs=True)
    verify_s = time.perf_counter() - start
    if not ok:
        raise RuntimeError("our proof does not verify")
    # The statement is checked, not only accepted: a wrong output must be refused.
    if plonk.verify(pk.vk, proof, [(values["out"] + 1) % MODULUS], allow_insecure_srs=True):
        raise RuntimeError("our proof verifies against a wrong output")
    return {
        "statement": statement,
        "steps": steps,
        "rows": rows,
        "domain": n,
        "compile_s": compile_s,
        "srs_s": srs_s,
        "setup_s": setup_s,
        "prove_s": prove_s,
        "verify_s": verify_s,
        "proof_bytes": len(proof.to_bytes()),
        "peak_rss_bytes": peak_rss(),
    }


# --- child processes --------------------------------------------------------------------------


def measure(cmd: list[str], timeout: float) -> Json:
    """Run ``cmd``; its last stdout line (JSON: the child reports its own peak RSS) with its
    wall and CPU time (``os.wait4``) and the other processes' CPU share meanwhile."""
    busy = ec.busy_seconds()
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    lines = stdout.strip().splitlines()
    result: Json = {}
    if code == 0 and lines:
        result = json.loads(lines[-1])
    else:
        result["error"] = f"exit {code}{' (timed out)' if wall > timeout else ''}: {stderr[-2000:]}"
    result.update(
        ru_maxrss_bytes=usage.ru_maxrss * 1024,
        process_s=wall,
        cpu_s=cpu,
        others_cpu=ec.others_share(busy, cpu, wall),
    )
    return result


# --- report -----------------------------------------------------------------------------------


def summary(runs: list[Json]) -> Json:
    """The best of each time over the runs that did not fail, the largest peak RSS and the
    range of others_cpu."""
    good = [r for r in runs if "error" not in r]
    out: Json = {"runs": len(runs), "failed": len(runs) - len(good)}
    if not good:
        return out
    for key in ("compile_s", "srs_s", "setup_s", "prove_s", "verify_s"):
        out[key] = ec.best(good, key)
    rss = [r["peak_rss_bytes"] for r in good if r.get("peak_rss_bytes")]
    out["peak_rss_bytes"] = max(rss) if rss else None
    out["size"] = good[0].get("constraints", good[0].get("rows"))
    out["domain"] = good[0]["domain"]
    out["steps"] = good[0]["steps"]
    out["others_cpu"] = ec._others(good)
    return out


def table(results: dict[str, dict[str, list[Json]]]) -> str:
    lines = [
        "| statement | system | steps | rows / constraints | domain | setup s | prove s | "
        "verify s | peak RSS MiB | prove ours/gnark | others_cpu |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for statement, sides in results.items():
        g, o = summary(sides["gnark"]), summary(sides["ours"])
        ratio = o["prove_s"] / g["prove_s"] if o.get("prove_s") and g.get("prove_s") else None
        for name, s in (("gnark", g), ("bigfile_zk", o)):
            if "domain" not in s:
                lines.append(f"| {statement} | {name} | failed ({s['failed']} runs) |" + " |" * 8)
                continue
            lines.append(
                f"| {statement} | {name} | {s['steps']:,} | {s['size']:,} | "
                f"2^{s['domain'].bit_length() - 1} | {ec.fmt(s['setup_s'])} | "
                f"{ec.fmt(s['prove_s'])} | {ec.fmt(s['verify_s'], '.3f')} | "
                f"{ec.fmt(s['peak_rss_bytes'] and s['peak_rss_bytes'] / 2**20, ',.0f')} | "
                f"{ec.fmt(ratio, '.2f', 'x') if name == 'bigfile_zk' else ''} | "
                f"{s['others_cpu']} |"
            )
    return "\n".join(lines) + "\n"


def environment() -> Json:
    """The machine, the load at the start and our version (gnark's are added from its runs)."""
    env = ec.environment()
    env["versions"] = {"bigfile_zk": env["versions"].get("bigfile_zk")}
    env["gnark_dir"] = os.environ.get("GNARK_DIR")
    return env


def add_gnark_versions(env: Json, runs: list[Json]) -> None:
    """gnark's, gnark-crypto's and Go's versions and GOMAXPROCS, as its first good run says."""
    run = next((r for r in runs if "error" not in r), None)
    if run is not None:
        env["versions"] |= {k: run.get(k) for k in ("gnark", "gnark_module", "gnark_crypto", "go")}
        env["gnark_gomaxprocs"] = run.get("gomaxprocs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", default="chain,hash", help="comma-separated: chain, hash")
    parser.add_argument("--big", action="store_true", help="the chain at 2^20 instead of 2^16")
    parser.add_argument("--chain-steps", type=int, help="chain steps (default: fill the domain)")
    parser.add_argument("--hashes", type=int, default=HASHES, help="hashes in the hash chain")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (best shown)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child process")
    parser.add_argument(
        "--quiet",
        type=float,
        metavar="SHARE",
        help="before each run wait (up to --max-wait s) until other processes use at most "
        "this share of the CPUs (e.g. 0.05)",
    )
    parser.add_argument("--max-wait", type=float, default=300)
    parser.add_argument(
        "--gnark-crypto", help="gnark-crypto version (default: the one gnark's go.mod requires)"
    )
    parser.add_argument("--work", type=Path, help="build the Go program here (default: temp)")
    parser.add_argument("--worker", nargs=2, metavar=("STATEMENT", "STEPS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(ours(args.worker[0], int(args.worker[1]))))
        return 0

    statements = [s.strip() for s in args.statements.split(",") if s.strip()]
    unknown = [s for s in statements if s not in STATEMENTS]
    if unknown or not statements:
        parser.error(f"--statements takes {', '.join(STATEMENTS)}; got {args.statements!r}")
    if (
        args.rounds < 1
        or args.hashes < 1
        or (args.chain_steps is not None and args.chain_steps < 1)
    ):
        parser.error("--rounds, --hashes and --chain-steps must be positive")
    steps = {
        "chain": args.chain_steps or CHAIN_STEPS[args.big],
        "hash": args.hashes,
    }

    go = shutil.which("go")
    gnark_dir = os.environ.get("GNARK_DIR")
    why = (
        "go is not on PATH"
        if go is None
        else "GNARK_DIR is not set"
        if not gnark_dir
        else f"GNARK_DIR={gnark_dir} has no go.mod"
        if not (Path(gnark_dir) / "go.mod").is_file()
        else None
    )
    if why:
        print(HOW_TO.format(why=why))
        return 0
    assert go is not None and gnark_dir is not None

    with tempfile.TemporaryDirectory(prefix="gnark-compare-") as tmp:
        work = args.work or Path(tmp)
        print(f"building benches/gnark/main.go against {gnark_dir} ...", file=sys.stderr)
        try:
            binary = build_gnark(go, Path(gnark_dir).resolve(), work, args.gnark_crypto)
        except (OSError, RuntimeError, ValueError) as e:
            print(f"gnark side by side: the Go build failed: {e}", file=sys.stderr)
            return 1
        results: dict[str, dict[str, list[Json]]] = {
            s: {"gnark": [], "ours": []} for s in statements
        }
        session: Json = {"environment": environment(), "steps": steps, "rounds": args.rounds}
        for i in range(args.rounds):
            for statement in statements:
                n = str(steps[statement])
                for side, cmd in (
                    ("gnark", [str(binary), "-statement", statement, "-steps", n]),
                    ("ours", [sys.executable, __file__, "--worker", statement, n]),
                ):
                    quiet = ec.wait_for_quiet(args.quiet, args.max_wait)
                    run = measure(cmd, args.timeout) | {"round": i, "quiet": quiet}
                    results[statement][side].append(run)
                    print(
                        f"round {i} {statement} {side}: "
                        + (
                            run["error"][:300]
                            if "error" in run
                            else f"prove {run['prove_s']:.2f} s, "
                            f"others_cpu {ec.fmt(run['others_cpu'], '.0%')}"
                        ),
                        file=sys.stderr,
                    )
    add_gnark_versions(session["environment"], [r for s in results.values() for r in s["gnark"]])
    session["results"] = results
    session["summary"] = {
        s: {side: summary(runs) for side, runs in sides.items()} for s, sides in results.items()
    }
    text = table(results)
    session["table"] = text
    print(text)
    if args.out:
        from bigfile_zk._io import write_atomic

        write_atomic(args.out, json.dumps(session, indent=1).encode())
    return (
        0 if all("error" not in r for s in results.values() for v in s.values() for r in v) else 1
    )


if __name__ == "__main__":
    sys.exit(main())
