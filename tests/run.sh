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

step "Python environment (.venv)"
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q ".[test]"

step "outside oracles (npm: circomlibjs)"
(cd tests/js && npm ci --no-audit --no-fund --loglevel=error)

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
# Cargo caches rustc's target-info probe in target/.rustc_info.json, failures included. On the
# CI machines that probe (clippy-driver reading `-`) has failed spuriously, once with another
# rustc's error text as its input, and the cached failure then fails every later run in the
# clone: do not cache it, and retry once on exactly that error.
export CARGO_CACHE_RUSTC_INFO=0
if ! clippy_out="$(cargo clippy --workspace --all-targets --quiet -- -D warnings 2>&1)"; then
  if grep -q "failed to run \`rustc\` to learn about target-specific information" <<<"$clippy_out"; then
    echo "cargo's rustc probe failed; retrying once" >&2
    rm -f "${CARGO_TARGET_DIR:-target}/.rustc_info.json"
    cargo clippy --workspace --all-targets --quiet -- -D warnings
  else
    printf '%s\n' "$clippy_out" >&2
    exit 1
  fi
else
  [ -z "$clippy_out" ] || printf '%s\n' "$clippy_out"
fi

step "cargo test"
cargo test --workspace --quiet

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
