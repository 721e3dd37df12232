#!/usr/bin/env node
// Cross-check oracle: circomlib Poseidon over BN254 as computed by circomlibjs 0.1.7.
//
// stdin:  {"cases": [{"inputs": ["<dec>", ...], "init_state": "<dec>", "n_out": <int>}, ...]}
//         (init_state defaults to "0", n_out to 1)
// stdout: {"outputs": [["<dec>", ...], ...]}   one list of n_out decimals per case
//
// Default implementation is the wasm one from buildPoseidon(). In circomlibjs
// 0.1.7 it already takes the extended arguments:
//     poseidon(inputs, initState, nOut)
// returning one Montgomery-form Uint8Array when nOut == 1 and an array of nOut
// of them otherwise (the first nOut words of the final state). circomlibjs has
// no separately named poseidonEx; buildPoseidonOpt() and buildPoseidonReference()
// share the same (inputs, initState, nOut) signature, returning field elements,
// and can be selected with --impl=opt|reference as a second opinion.
//
// Bad input gives exit status 2 with a message on stderr; nothing goes to stdout.

import {
  buildPoseidon,
  buildPoseidonOpt,
  buildPoseidonReference,
} from "circomlibjs";

const BUILDERS = {
  wasm: buildPoseidon,
  opt: buildPoseidonOpt,
  reference: buildPoseidonReference,
};
const MAX_INPUTS = 16; // circomlibjs only carries constants for t = 2..17

class InputError extends Error {}

function fail(msg) {
  throw new InputError(msg);
}

function parseArgs(argv) {
  let impl = "wasm";
  for (const arg of argv) {
    const m = /^--impl=(.+)$/.exec(arg);
    if (m && m[1] in BUILDERS) impl = m[1];
    else fail(`unknown argument ${JSON.stringify(arg)} (accepted: --impl=wasm|opt|reference)`);
  }
  return impl;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

// Strings only: JSON numbers above 2^53 are already corrupted by JSON.parse.
// Values >= p are refused rather than reduced, because circomlibjs would reduce
// them silently and hide a caller that forgot to.
function parseFieldElement(v, where, p) {
  if (typeof v !== "string" || !/^[0-9]+$/.test(v)) {
    fail(`${where}: expected a decimal string, got ${JSON.stringify(v)}`);
  }
  const x = BigInt(v);
  if (x >= p) fail(`${where}: ${v} is not below the field modulus`);
  return x;
}

function parseCase(c, idx, p) {
  const where = `cases[${idx}]`;
  if (c === null || typeof c !== "object" || Array.isArray(c)) fail(`${where}: expected an object`);
  for (const k of Object.keys(c)) {
    if (!["inputs", "init_state", "n_out"].includes(k)) fail(`${where}: unknown key ${JSON.stringify(k)}`);
  }
  const { inputs } = c;
  if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > MAX_INPUTS) {
    fail(`${where}.inputs: expected an array of 1..${MAX_INPUTS} elements`);
  }
  const xs = inputs.map((v, i) => parseFieldElement(v, `${where}.inputs[${i}]`, p));
  const initState = c.init_state === undefined ? 0n : parseFieldElement(c.init_state, `${where}.init_state`, p);
  const nOut = c.n_out === undefined ? 1 : c.n_out;
  // The wasm copies nOut words out of a t-word state without bounds checks.
  const t = xs.length + 1;
  if (!Number.isInteger(nOut) || nOut < 1 || nOut > t) {
    fail(`${where}.n_out: expected an integer in 1..${t}, got ${JSON.stringify(c.n_out)}`);
  }
  return { xs, initState, nOut };
}

async function main() {
  const impl = parseArgs(process.argv.slice(2));
  const text = await readStdin();
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(`stdin is not valid JSON: ${e.message}`);
  }
  if (doc === null || typeof doc !== "object" || !Array.isArray(doc.cases)) {
    fail('expected a JSON object with a "cases" array');
  }

  const poseidon = await BUILDERS[impl]();
  const F = poseidon.F;
  const p = BigInt(F.p);
  const cases = doc.cases.map((c, i) => parseCase(c, i, p));

  const outputs = cases.map(({ xs, initState, nOut }) => {
    const r = poseidon(xs, initState, nOut);
    return (nOut === 1 ? [r] : r).map((e) => F.toString(e));
  });
  process.stdout.write(JSON.stringify({ outputs }) + "\n");
}

main().catch((e) => {
  if (e instanceof InputError) {
    process.stderr.write(`poseidon_oracle: bad input: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`poseidon_oracle: internal error: ${e && e.stack ? e.stack : e}\n`);
    process.exitCode = 1;
  }
});
