"""Outside implementation: snarkjs Powers-of-Tau (``.ptau``) files for the SRS loader tests.

Drives the snarkjs 0.7.6 CLI (``tests/js/node_modules/snarkjs/build/cli.cjs``,
the package's ``bin``) through node to make ``.ptau`` files, and decodes them
with the same JS libraries snarkjs uses (ffjavascript 0.3.1, @iden3/binfileutils
0.0.12) so tests can compare our parser against an independent decoder. Standard
library only, so importing it never needs extra packages.

Missing node/npm raises RuntimeError instead of skipping; the caller decides
whether that is a skip (local runs) or a failure (e.g. when CI=true).

Binary layout, as snarkjs 0.7.6 writes it for bn128 (BN254)
-----------------------------------------------------------
Checked against src/powersoftau_new.js, powersoftau_contribute.js,
powersoftau_preparephase2.js, powersoftau_utils.js (writePTauHeader,
writeContribution), @iden3/binfileutils (createBinFile, startWriteSection) and
ffjavascript/wasmcurves (toRprLEM, zeroAffine), and against real files.
All integers are little-endian.

File header (12 bytes)::

    magic    4 bytes  b"ptau"
    version  u32      1
    nSect    u32      7 after `new`/`contribute`, 11 after `prepare phase2`

Then nSect sections, back to back, each ``id u32 | size u64 | payload[size]``
(12-byte section header; ``size`` counts the payload only). snarkjs writes them
in increasing id order (1..7, then 12..15), but its reader looks sections up
by id and does not require any order.

Section 1, header (44 bytes for BN254)::

    n8             u32       32 (bytes per base-field element, = F1.n64*8)
    q              n8 bytes  base-field modulus, plain (not Montgomery) LE
    power          u32
    ceremonyPower  u32       = power for files from new / contribute /
                             beacon / prepare phase2 (they all rewrite it as
                             power); only `powersoftau truncate` writes a
                             smaller power with the original ceremonyPower

Point encoding (sections 2-7 and 12-15): affine, uncompressed, no flag bits.
Every field element is n8 = 32 bytes LE in MONTGOMERY form, i.e. the stored
integer is ``x * 2**256 mod q`` (ffjavascript's ``toRprLEM`` is a raw copy of
the wasm representation). Stored values are reduced (< q).

* G1 point: ``x || y`` = 64 bytes.
* G2 point: ``x.c0 || x.c1 || y.c0 || y.c1`` = 128 bytes, where an Fq2
  element is ``c0 + c1*u`` (u^2 = -1), c0 (the "real" part) first.
* Point at infinity: all zero bytes (x = y = 0; 64 bytes for G1, 128 for
  G2) -- wasmcurves' ``_zeroAffine`` zeroes both coordinates and
  ``_isZeroAffine`` tests x == 0 and y == 0. There is no infinity flag.

Sections written by ``powersoftau new`` / ``contribute`` (N = 2**power)::

    2  tauG1       2N-1 G1:  [tau^i]_1,         i = 0..2N-2
    3  tauG2       N    G2:  [tau^i]_2,         i = 0..N-1
    4  alphaTauG1  N    G1:  [alpha*tau^i]_1,   i = 0..N-1
    5  betaTauG1   N    G1:  [beta*tau^i]_1,    i = 0..N-1
    6  betaG2      1    G2:  [beta]_2
    7  contributions: u32 count, then per contribution: tauG1 (G1), tauG2
       (G2), alphaG1 (G1), betaG1 (G1), betaG2 (G2), public key (6 G1 + 3 G2
       = 768 bytes), partialHash (216 bytes), nextChallenge (64 bytes), type
       u32 (0 = contribute, 1 = beacon), u32 paramsLength, then params as
       (u8 tag, value): tag 1 = name (u8 length + UTF-8, <= 64 bytes), tag 2
       = numIterationsExp (u8), tag 3 = beacon hash (u8 length + bytes).
       Points in Montgomery form as above. A fresh `new` file has section 7 =
       4 zero bytes (count 0); each make_ptau contribution adds 1520 bytes.

A fresh `new` file holds the generators everywhere (tau = alpha = beta = 1).

``powersoftau prepare phase2`` copies sections 1-7 and appends 4 Lagrange
sections. Each is a concatenation of blocks, block k holding the 2**k points
``iFFT_k(first 2**k points of the source section)`` for k = 0..power, i.e.
``[s * L_i(tau)]`` for i = 0..2**k-1 in natural order, where the source points
are ``[s * tau^j]`` (s = 1, alpha or beta) and L_i is the
Lagrange polynomial of the size-2**k domain of roots of unity that is 1 at
w_k**i and 0 at the others; w_k = ffjavascript's Fr.w[k] =
``pow(5, (r - 1) >> 28, r) ** (2 ** (28 - k)) mod r`` (5 = Fr's first
non-residue; r = BN254 group order). All of this was checked numerically
(py_ecc sums over the decoded blocks)::

    12  lTauG1       from section 2, G1, blocks k = 0..power+1 (!)
                     -> 2**(power+2) - 1 points
    13  lTauG2       from section 3, G2, blocks k = 0..power
                     -> 2**(power+1) - 1 points
    14  lAlphaTauG1  from section 4, G1, blocks k = 0..power -> 2**(power+1) - 1
    15  lBetaTauG1   from section 5, G1, blocks k = 0..power -> 2**(power+1) - 1

With no contribution (tau = 1) every Lagrange block k >= 1 is
``[G, O, O, ...]`` (O = infinity, stored as zeros), a handy infinity test.

Section 12 has ONE EXTRA block, k = power+1, of 2**(power+1) points: snarkjs
takes the 2**(power+1) - 1 available tauG1 points, appends the point at
infinity in place of the missing [tau^(2**(power+1)-1)]_1, and iFFTs that. So
that block is NOT a Lagrange basis: its point i is
``[L_i(tau) - w**i * tau**(n-1) / n]_1`` with n = 2**(power+1) and w = w_(power+1)
(so sum_i w**-i * point_i = O instead of [tau**(n-1)]_1). snarkjs' own
``export json`` skips it. (Per powersoftau_truncate.js, not tested here: a
file cut down by ``powersoftau truncate`` copies a prefix of the bigger file's
section 12, so its block p+1 IS a true Lagrange basis.) Blocks follow each
other with no padding or length fields; block k starts at point index
2**k - 1 of its section.

Offsets in a BN254 file: section 1's payload starts at byte 24, section 2's
header at 68 and section 2's (tauG1) payload at byte 80, for every power and
for new, contributed and phase2-prepared files alike. For a fresh power-4 file
(`new` only, 6352 bytes) the sections are (id, payload offset, size):
(1, 24, 44), (2, 80, 1984), (3, 2076, 2048), (4, 4136, 1024),
(5, 5172, 1024), (6, 6208, 128), (7, 6348, 4).
``make_ptau(d, 4, prepare_phase2=True)`` (1 contribution, 19888 bytes) has the
same sections 1-6, then (7, 6348, 1524), (12, 7884, 4032), (13, 11928, 3968),
(14, 15908, 1984), (15, 17904, 1984).

Notes on the snarkjs 0.7.6 CLI
------------------------------
* ``powersoftau contribute`` mixes 64 bytes of crypto randomness into the
  ``-e`` entropy, so contributed files are not reproducible.
* ``powersoftau export json`` is unusable as an oracle: every point comes out
  as ONE decimal string, the point's first 32 bytes (x, or x.c0) read as an
  Fr element in Montgomery form (``stringifyBigIntsWithField(curve.Fr, ...)``
  applied to the raw point buffer); for the G1 generator it prints
  19251647757787308156787743079029887954678750029819827393622431040979082323348
  (= (2**256 mod q) * 2**-256 mod r). And it fails
  with "Missing section 12" on files without ``prepare phase2`` (see
  iden3/snarkjs PRs #177 and #326). :func:`ptau_json` therefore
  decodes with ffjavascript directly; :func:`export_json_cli` gives the raw CLI
  output if you need it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import _npm

JS_DIR = _npm.JS_DIR
SNARKJS_DIR = JS_DIR / "node_modules" / "snarkjs"
SNARKJS_VERSION = "0.7.6"
SNARKJS_CLI = SNARKJS_DIR / "build" / "cli.cjs"
_NODE_TIMEOUT_S = 300
MIN_POWER = 1  # snarkjs `powersoftau new` accepts 1..28
MAX_POWER = 28
MAX_PHASE2_POWER = 27  # Lagrange block power+1 must fit Fr's 2-adicity (28)

# Decodes a .ptau with the libraries snarkjs itself uses (resolved from the
# snarkjs package, so the same ffjavascript 0.3.1 / binfileutils 0.0.12).
# argv: [node, <snarkjs package.json>, <ptau>]; prints JSON on stdout.
_DECODER_JS = r"""
"use strict";
const { createRequire } = require("module");
const req = createRequire(process.argv[1]);
const ff = req("ffjavascript");
const bfu = req("@iden3/binfileutils");

async function main() {
    const { fd, sections } = await bfu.readBinFile(process.argv[2], "ptau", 1);
    const curve = await ff.buildBn128(true);
    try {
        const unique = (id) => {
            const s = sections[id];
            if (!s) throw new Error(`missing section ${id}`);
            if (s.length !== 1) throw new Error(`section ${id} appears ${s.length} times`);
            return s[0];
        };
        const hdr = await bfu.readSection(fd, sections, 1);
        const dv = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
        const n8 = dv.getUint32(0, true);
        if (n8 !== 32 || hdr.byteLength !== 12 + n8) throw new Error("bad header section");
        const q = ff.Scalar.fromRprLE(hdr, 4, n8);
        if (!ff.Scalar.eq(q, curve.q)) throw new Error("not a bn128 file");
        const power = dv.getUint32(4 + n8, true);
        const ceremonyPower = dv.getUint32(8 + n8, true);

        const points = async (id, G, n) => {
            const sG = G.F.n8 * 2;
            const s = unique(id);
            if (s.size !== n * sG) {
                throw new Error(`section ${id}: ${s.size} bytes, expected ${n * sG}`);
            }
            const buff = await bfu.readSection(fd, sections, id);
            const res = [];
            for (let i = 0; i < n; i++) res.push(G.toObject(G.fromRprLEM(buff, i * sG)));
            return res;
        };
        const lagrange = async (id, G, nBlocks) => {
            const flat = await points(id, G, 2 ** nBlocks - 1);
            const res = [];
            for (let k = 0; k < nBlocks; k++) res.push(flat.slice(2 ** k - 1, 2 ** (k + 1) - 1));
            return res;
        };

        const N = 2 ** power;
        const seven = await bfu.readSection(fd, sections, 7);
        const out = {
            q: curve.q,
            n8: n8,
            power: power,
            ceremonyPower: ceremonyPower,
            sections: Object.keys(sections)
                .flatMap((id) =>
                    sections[id].map((s) => ({ id: Number(id), offset: s.p, size: s.size })))
                .sort((a, b) => a.offset - b.offset),
            nContributions: new DataView(seven.buffer, seven.byteOffset, 4).getUint32(0, true),
            tauG1: await points(2, curve.G1, 2 * N - 1),
            tauG2: await points(3, curve.G2, N),
            alphaTauG1: await points(4, curve.G1, N),
            betaTauG1: await points(5, curve.G1, N),
            betaG2: (await points(6, curve.G2, 1))[0],
        };
        if (sections[12]) {
            out.lTauG1 = await lagrange(12, curve.G1, power + 2);
            out.lTauG2 = await lagrange(13, curve.G2, power + 1);
            out.lAlphaTauG1 = await lagrange(14, curve.G1, power + 1);
            out.lBetaTauG1 = await lagrange(15, curve.G1, power + 1);
        }
        process.stdout.write(JSON.stringify(ff.utils.stringifyBigInts(out)));
    } finally {
        await fd.close();
        await curve.terminate();
    }
}

main().catch((e) => {
    process.stderr.write(String((e && e.stack) || e) + "\n");
    process.exit(1);
});
"""


def ensure_snarkjs() -> Path:
    """Make sure snarkjs 0.7.6 is installed under tests/js; return its CLI script.

    Runs ``npm ci`` (the whole tests/js lock) if it is missing or another
    version. Raises RuntimeError (with the reason) if node or npm is missing
    or the install fails.
    """
    _npm.ensure("snarkjs", SNARKJS_VERSION)
    return SNARKJS_CLI


def _node(args: list[str], what: str) -> str:
    """Run node with args (cwd tests/js); return stdout, raise RuntimeError on failure."""
    ensure_snarkjs()
    try:
        proc = subprocess.run(
            [_npm.tool("node"), *args],
            cwd=JS_DIR,
            stdin=subprocess.DEVNULL,  # snarkjs prompts for missing entropy; never hang
            capture_output=True,
            text=True,
            timeout=_NODE_TIMEOUT_S,
            check=False,
            # Keep a caller's NODE_OPTIONS (e.g. --inspect) from altering the run.
            env={k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"},
        )
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"{what} timed out after {_NODE_TIMEOUT_S}s") from e
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip())[-4000:]
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {detail}")
    return proc.stdout


def _snarkjs(*args: str) -> str:
    return _node([str(SNARKJS_CLI), *args], f"snarkjs {' '.join(args[:2])}")


def make_ptau(
    directory: Path,
    power: int,
    *,
    contributions: int = 1,
    prepare_phase2: bool = False,
    entropy: str = "bigfile_zk test",
) -> Path:
    """Make a BN254 ``.ptau`` of 2**power with the snarkjs CLI; return its path.

    ``powersoftau new bn128 <power>`` writes ``pot<power>_0000.ptau`` in
    directory, then ``contributions`` times ``powersoftau contribute
    --name="contribution <i>" -e="<entropy>-<i>"`` (i = 1..contributions) writes
    ``pot<power>_<i:04>.ptau``; with prepare_phase2, ``powersoftau prepare
    phase2`` finally writes ``pot<power>_final.ptau`` (adds sections 12-15).
    Intermediate files are left in directory. contributions=0 keeps the
    generator-only file (tau = alpha = beta = 1). Contributions are random
    (snarkjs adds OS randomness to the entropy), so outputs differ run to run.

    power: 1..28 (1..27 with prepare_phase2). Each CLI run costs ~0.4 s at small
    powers; measured totals (1 contribution): power 4 ~0.95 s, ~1.4 s with
    prepare_phase2; power 8 ~1.35 s, ~3.6 s with prepare_phase2.
    """
    max_power = MAX_PHASE2_POWER if prepare_phase2 else MAX_POWER
    if not MIN_POWER <= power <= max_power:
        raise ValueError(f"power must be in {MIN_POWER}..{max_power}, got {power}")
    if contributions < 0:
        raise ValueError(f"contributions must be >= 0, got {contributions}")
    if not entropy:
        raise ValueError("entropy must be non-empty (snarkjs would prompt for it)")
    directory = Path(directory).resolve()  # absolute: snarkjs treats "-..." args as options
    directory.mkdir(parents=True, exist_ok=True)
    current = directory / f"pot{power}_0000.ptau"
    _snarkjs("powersoftau", "new", "bn128", str(power), str(current))
    for i in range(1, contributions + 1):
        nxt = directory / f"pot{power}_{i:04d}.ptau"
        _snarkjs(
            "powersoftau",
            "contribute",
            str(current),
            str(nxt),
            f"--name=contribution {i}",
            f"-e={entropy}-{i}",
        )
        current = nxt
    if prepare_phase2:
        final = directory / f"pot{power}_final.ptau"
        _snarkjs("powersoftau", "prepare", "phase2", str(current), str(final))
        current = final
    return current


def ptau_json(path: Path) -> dict[str, Any]:
    """Decode a BN254 ``.ptau`` with snarkjs' own libraries (ffjavascript, binfileutils).

    Replaces ``snarkjs powersoftau export json``, which is lossy in 0.7.6 (see
    the module docstring). Same key names as that export, with full points::

        q              str   base-field modulus (decimal)
        n8             int   32
        power          int
        ceremonyPower  int
        sections       list of {"id": int, "offset": int, "size": int} in file
                       order; offset = payload start (after the 12-byte id/size)
        nContributions int   count in section 7
        tauG1          2**(power+1) - 1 G1 points       (section 2)
        tauG2          2**power G2 points                (section 3)
        alphaTauG1     2**power G1 points                (section 4)
        betaTauG1      2**power G1 points                (section 5)
        betaG2         one G2 point                      (section 6)
      only if sections 12-15 exist (after prepare phase2), lists of blocks,
      block k = list of 2**k points:
        lTauG1         power+2 blocks, k = 0..power+1 (section 12; the last
                       block is the non-Lagrange extra one, see module docstring)
        lTauG2         power+1 blocks, k = 0..power (section 13, G2)
        lAlphaTauG1    power+1 blocks (section 14)
        lBetaTauG1     power+1 blocks (section 15)

    Points are ffjavascript ``G.toObject`` output, all numbers decimal strings,
    coordinates plain integers (Montgomery form removed), affine with an
    explicit projective Z that is always one:

        G1: [x, y, "1"], e.g. the generator ["1", "2", "1"]
        G2: [[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]   (c0 + c1*u, c0 first)
        infinity: G1 ["0", "1", "0"]; G2 [["0", "0"], ["1", "0"], ["0", "0"]]

    No curve or subgroup checks are made; ``powersoftau verify`` does those.
    Raises RuntimeError if the file cannot be read (bad magic, version > 1,
    missing/duplicated section, section of the wrong size, not bn128).
    """
    out = _node(
        [
            "--input-type=commonjs",
            "-e",
            _DECODER_JS,
            str(SNARKJS_DIR / "package.json"),
            str(Path(path).resolve()),
        ],
        f"ptau decoder on {path}",
    )
    result: dict[str, Any] = json.loads(out)
    return result


def export_json_cli(path: Path, out: Path | None = None) -> Any:
    """Raw ``snarkjs powersoftau export json`` output (parsed), for reference only.

    In 0.7.6 each point is a single meaningless decimal string and files
    without sections 12-15 fail (RuntimeError); use :func:`ptau_json`.
    """
    path = Path(path).resolve()
    target = Path(out).resolve() if out is not None else path.with_suffix(".export.json")
    _snarkjs("powersoftau", "export", "json", str(path), str(target))
    return json.loads(target.read_text(encoding="utf-8"))


def truncate(path: Path, out: Path, keep_bytes: int) -> Path:
    """Write the first keep_bytes bytes of path to out; return out."""
    data = Path(path).read_bytes()
    if not 0 <= keep_bytes <= len(data):
        raise ValueError(f"keep_bytes must be in 0..{len(data)}, got {keep_bytes}")
    out = Path(out)
    out.write_bytes(data[:keep_bytes])
    return out


def patch(path: Path, out: Path, offset: int, data: bytes) -> Path:
    """Write a copy of path to out with data overwriting bytes at offset; return out.

    The patch must lie inside the file (it never grows the copy).
    """
    buf = bytearray(Path(path).read_bytes())
    if offset < 0 or offset + len(data) > len(buf):
        raise ValueError(f"patch [{offset}, {offset + len(data)}) outside file of {len(buf)} bytes")
    buf[offset : offset + len(data)] = data
    out = Path(out)
    out.write_bytes(bytes(buf))
    return out
