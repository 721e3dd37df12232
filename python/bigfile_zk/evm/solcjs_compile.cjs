// Runs the solc npm package (solcjs) on a standard-JSON input read from stdin and prints
// {"version": ..., "output": <standard-JSON output>}. Used by bigfile_zk.evm.compile.
// Usage: node solcjs_compile.cjs <directory of the solc package>
"use strict";
const solc = require(process.argv[2]);
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const output = JSON.parse(solc.compile(Buffer.concat(chunks).toString("utf8")));
  process.stdout.write(JSON.stringify({ version: solc.version(), output }));
});
