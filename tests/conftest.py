"""Shared pytest configuration: hypothesis profiles, the circomlibjs oracle, paths.

Hypothesis profiles (select with ``HYPOTHESIS_PROFILE``, default ``dev``):

* ``ci``: few examples, derandomized (the same examples on every run), failure blobs printed
  so that a CI failure can be replayed locally with ``@reproduce_failure``;
* ``dev``: deeper random search for local runs.

Neither profile has a deadline: the pure-Python reference is slow (~0.5 ms per permutation)
and its first call per width regenerates the Poseidon constants.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

TESTS_DIR = Path(__file__).resolve().parent

# tests/_circomlibjs.py and tests/strategies.py are imported as top-level modules, as
# tests/test_reference.py does (`import _circomlibjs`); make that independent of pytest's
# import mode.
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))

from _ray_cluster import ray_cluster  # noqa: E402, F401  (a module-scoped fixture)
from strategies import Oracle  # noqa: E402  (needs the sys.path entry above)

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Keys and SRSs the tests derive are cached in a temporary directory, not the user's
    ``~/.cache/bigfile_zk`` (see ``bigfile_zk.storage.cache_dir``)."""
    before = os.environ.get("BIGFILE_ZK_CACHE")
    os.environ["BIGFILE_ZK_CACHE"] = str(tmp_path_factory.mktemp("bigfile_zk-cache"))
    yield None
    if before is None:
        del os.environ["BIGFILE_ZK_CACHE"]
    else:
        os.environ["BIGFILE_ZK_CACHE"] = before


def running_in_ci() -> bool:
    """``CI=true`` (or any other non-false value): missing tools are failures, not skips."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def solc() -> Path:
    """The pinned solc npm package (tests/js's lock), installed on demand; a skip when npm is
    unavailable, a failure under CI."""
    import _npm  # type: ignore[import-not-found]

    from bigfile_zk import evm

    try:
        _npm.ensure("solc", evm.SOLC_VERSION)
    except RuntimeError as exc:
        if running_in_ci():
            pytest.fail(f"CI is set but solc cannot be installed: {exc}")
        pytest.skip(f"solc unavailable: {exc}")
    return Path(_npm.JS_DIR / "node_modules" / "solc")


@pytest.fixture(scope="session")
def circomlib() -> Oracle:
    """The circomlibjs oracle; a skip when node is unavailable, a failure under CI."""
    import _circomlibjs  # type: ignore[import-not-found]

    try:
        _circomlibjs.ensure_circomlibjs()
    except RuntimeError as exc:
        if running_in_ci():
            pytest.fail(f"CI is set but the circomlibjs cross-check cannot run: {exc}")
        pytest.skip(f"circomlibjs unavailable: {exc}")
    oracle: Oracle = _circomlibjs.circomlib_poseidon
    return oracle


@pytest.fixture(scope="session")
def openzeppelin() -> Path:
    """The pinned @openzeppelin/contracts npm package (tests/js's lock, the version
    ComputeRegistry.sol is compiled against), installed on demand; a skip when npm is
    unavailable, a failure under CI."""
    import _npm  # type: ignore[import-not-found]

    from bigfile_zk import evm

    try:
        _npm.ensure("@openzeppelin/contracts", evm.OPENZEPPELIN_VERSION)
    except RuntimeError as exc:
        if running_in_ci():
            pytest.fail(f"CI is set but @openzeppelin/contracts cannot be installed: {exc}")
        pytest.skip(f"@openzeppelin/contracts unavailable: {exc}")
    return Path(_npm.JS_DIR / "node_modules" / "@openzeppelin" / "contracts")
