#!/usr/bin/env node
// Per-hash time of circomlibjs 0.1.7 Poseidon with 2 inputs (t = 3), as a
// yardstick for bigfile_zk's own Poseidon.
//
// usage: node poseidon_bench.js [N_WASM=20000] [N_OPT=20000] [N_REF=2000]
// stdout: {"wasm_us_per_hash": ..., "opt_us_per_hash": ..., "reference_us_per_hash": ..., "n": {...}}
//
// Timed per call: BigInt/field input conversion plus the hash, output left in
// circomlibjs's internal (Montgomery) form; this is what a circomlibjs user
// pays per poseidon([a, b]). Each output is fed into the next input so the
// work can't be skipped and the operands aren't constant. Note the "opt" and
// "reference" builds are pure-JS round logic over ffjavascript's wasm field, so
// they pay a JS->wasm call per field operation.

import { buildPoseidon, buildPoseidonOpt, buildPoseidonReference } from "circomlibjs";

function count(arg, dflt) {
  if (arg === undefined) return dflt;
  const n = Number(arg);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`poseidon_bench: bad iteration count ${JSON.stringify(arg)}\n`);
    process.exit(2);
  }
  return n;
}

function bench(poseidon, n) {
  // Warm-up lets V8 tier the JS glue up before timing.
  let h = 1n;
  const warm = Math.max(200, Math.min(2000, n >> 2));
  for (let i = 0; i < warm; i++) h = poseidon([h, BigInt(i)]);

  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) h = poseidon([h, BigInt(i)]);
  const ns = Number(process.hrtime.bigint() - t0);
  return ns / 1000 / n;
}

const argv = process.argv.slice(2);
const n = { wasm: count(argv[0], 20000), opt: count(argv[1], 20000), reference: count(argv[2], 2000) };

const wasm = bench(await buildPoseidon(), n.wasm);
const opt = bench(await buildPoseidonOpt(), n.opt);
const ref = bench(await buildPoseidonReference(), n.reference);

const round = (x) => Math.round(x * 1000) / 1000;
process.stdout.write(
  JSON.stringify({
    wasm_us_per_hash: round(wasm),
    opt_us_per_hash: round(opt),
    reference_us_per_hash: round(ref),
    n,
  }) + "\n",
);
