"""The long fuzz campaign: ``PYTHONPATH=tests .venv/bin/python -m fuzz --minutes 30``.

Round-robin over the targets (all, or those given with ``--target``) in one worker process,
until the time is up or ``--cases`` per target are done; prints executions and outcome counts
per target and writes one reproducer per distinct finding (and up to 3 per signature) under
``--out``. ``--case N`` replays a single case (with ``--target`` and ``--seed``) and prints it.
Exit status: 0 without findings, 1 with.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from fuzz import findings
from fuzz.runner import (
    DEFAULT_DEADLINE,
    PARENT_ADDRESS_SPACE,
    Runner,
    generate,
    limit_address_space,
    rss_peak,
)
from fuzz.targets import TARGETS

BATCH = 25


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0, help="campaign length (30)")
    p.add_argument("--target", action="append", choices=sorted(TARGETS), help="repeatable")
    p.add_argument("--seed", type=int, default=0, help="campaign seed (0)")
    p.add_argument("--cases", type=int, help="stop after this many cases per target")
    p.add_argument("--case", type=int, help="replay one case (needs --target) and print it")
    p.add_argument("--out", default=".fuzz-findings", help="reproducers (.fuzz-findings/)")
    p.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE, help="seconds per case")
    p.add_argument("--list", action="store_true", help="list the targets and exit")
    args = p.parse_args(argv)

    if args.list:
        for name, t in TARGETS.items():
            print(f"{name:18} {t.doc}")
        return 0
    names = args.target or list(TARGETS)
    # The parent holds every generated input: a runaway generator must fail here (a generator
    # error) rather than grow until the kernel's OOM killer ends the campaign.
    limit_address_space(PARENT_ADDRESS_SPACE)
    corpus = findings.prepare()
    runner = Runner(corpus, deadline=args.deadline)
    found = findings.Collector(args.out)
    try:
        if args.case is not None:
            if len(names) != 1:
                p.error("--case needs exactly one --target")
            value, what = generate(names[0], corpus, args.seed, args.case)
            o = runner.run_case(names[0], args.seed, args.case, value, what)
            print(o.report() if o.finding else f"{o.status}: {o.exc_type} {o.message[:500]}")
            return 1 if o.finding else 0
        stop = time.monotonic() + 60 * args.minutes
        next_case = dict.fromkeys(names, 0)
        last_print = time.monotonic()
        print(f"fuzzing {len(names)} targets for {args.minutes} min, seed {args.seed}", flush=True)
        while time.monotonic() < stop:
            active = [n for n in names if args.cases is None or next_case[n] < args.cases]
            if not active:
                break
            for name in active:
                for _ in range(BATCH):
                    case = next_case[name]
                    if (args.cases is not None and case >= args.cases) or time.monotonic() > stop:
                        break
                    next_case[name] += 1
                    started = time.perf_counter()
                    try:
                        value, what = generate(name, corpus, args.seed, case)
                    except Exception as exc:  # a bug of the fuzzer (MemoryError too): go on
                        print(f"generator error {name} case {case}: {exc!r}", file=sys.stderr)
                        runner.stats.outcomes.setdefault(name, Counter())["generator-error"] += 1
                        continue
                    if (spent := time.perf_counter() - started) > 1.0:  # normally < 10 ms
                        print(f"slow generator {name} case {case}: {spent:.1f} s", file=sys.stderr)
                    o = runner.run_case(name, args.seed, case, value, what)
                    if o.finding and found.add(o):
                        print(o.report(), flush=True)
            if time.monotonic() - last_print > 60:
                last_print = time.monotonic()
                execs = sum(runner.stats.executions.values())
                print(
                    f"[{execs} executions, parent peak RSS {rss_peak() / 2**20:.0f} MiB]",
                    flush=True,
                )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    finally:
        runner.stop()
    print(findings.summary(runner.stats, found, runner.restarts))
    return 1 if found.total else 0


if __name__ == "__main__":
    sys.exit(main())
