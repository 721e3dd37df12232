#!/usr/bin/env bash
# Sets up everything the tests need, then runs every check; the README's test command.
#
#   Rust:   cargo fmt --check, cargo clippy -D warnings, cargo test (core unit + spec vectors +
#           the MSM plug-in ABI against the CPU plug-in, rust/msm-plugin-cpu)
#   Python: builds and installs the package (release, maturin) into .venv with its test extras,
#           installs the outside oracles (circomlibjs from npm), ruff, the GitHub workflow's
#           schema check (check-jsonschema), then pytest (with the CPU MSM plug-in's path in
#           BIGFILE_ZK_TEST_CPU_PLUGIN for the backend tests).
#
# Environment: PYTHON (interpreter for the venv, default python3); CI=true selects the bounded
# hypothesis profile "ci" (HYPOTHESIS_PROFILE overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads input; an inherited stdin once reached the rustc probe behind clippy.
exec </dev/null

step() { printf '\n==> %s\n' "$*"; }

for tool in cargo node npm "${PYTHON:-python3}"; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required but not on PATH" >&2; exit 1; }
done

step "cargo fmt --check"
cargo fmt --all -- --check

# cargo 1.95 now and then fails its rustc target-info probe (`rustc - --print=cfg …`): the probe
# reads another rustc's error text as its source. It comes in bursts on these machines (five
# quick tries in a fresh clone all failed, the same command passed minutes later and under
# strace), and cargo caches the failure in target/.rustc_info.json, which then fails every later
# command in the clone. Run cargo through this: on exactly that error, drop the cache, wait and
# try again (up to 8 times, about 3 minutes in all); any other failure fails at once.
cargo_retry() {
  local out attempt
  for attempt in 1 2 3 4 5 6 7 8; do
    if out="$("$@" 2>&1)"; then
      [ -z "$out" ] || printf '%s\n' "$out"
      return 0
    fi
    if ! grep -q "to learn about target-specific information" <<<"$out"; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    echo "cargo's rustc probe failed (attempt $attempt of 8); retrying in $((5 * attempt)) s" >&2
    rm -f "${CARGO_TARGET_DIR:-target}/.rustc_info.json"
    sleep $((5 * attempt))
  done
  printf '%s\n' "$out" >&2
  return 1
}

step "cargo clippy -D warnings"
cargo_retry cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo test"
cargo_retry cargo test --workspace --quiet

# The Python package is built (maturin, release) after the Rust checks: cargo's rustc probe
# failed most often right after a release build in a fresh clone (see cargo_retry).
step "Python environment (.venv)"
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q ".[test]"

step "outside oracles (npm: circomlibjs)"
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

step "CPU MSM plug-in (loaded by the Python backend tests)"
# cargo test built it, for bigfile-msm-cpu's ABI tests, into deps/ (a separate `cargo build -p`
# would recompile the core with other unified features for nothing).
case "$(uname -s)" in
  Darwin) plugin_file=libbigfile_msm_cpu.dylib ;;
  MINGW* | MSYS* | CYGWIN*) plugin_file=bigfile_msm_cpu.dll ;;
  *) plugin_file=libbigfile_msm_cpu.so ;;
esac
plugin_dir="$(cd "${CARGO_TARGET_DIR:-target}/debug/deps" && pwd)"
export BIGFILE_ZK_TEST_CPU_PLUGIN="$plugin_dir/$plugin_file"
[ -f "$BIGFILE_ZK_TEST_CPU_PLUGIN" ] || { echo "error: cargo test did not build $BIGFILE_ZK_TEST_CPU_PLUGIN" >&2; exit 1; }

step "ruff"
.venv/bin/ruff check python tests benches
.venv/bin/ruff format --check python tests benches

step "GitHub workflow lint (check-jsonschema, vendored github-workflows schema)"
.venv/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

step "pytest"
if [ "${CI:-}" = "true" ]; then
  export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
fi
# Run from the repo root against the installed wheel (python/ is not on sys.path).
.venv/bin/python -m pytest -p no:cacheprovider "$@"
