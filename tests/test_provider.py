# ruff: noqa: F811  (pytest fixtures imported from test_epoch_registry are test parameters)
"""Provider side of the EpochRegistry (``bigfile_zk.provider``, ``bigfile-zk provider epoch``):
queued changes are taken only when they reproduce the registry's recorded queue digests; whole
epochs run end to end on py-evm, in process, on local worker processes and on a real local
Ray cluster, from Python and from the command line (signing with a key file)."""

from __future__ import annotations

import pytest

from bigfile_zk.catalogue import queue_next
from bigfile_zk.errors import DecodeError
from bigfile_zk.provider import QueuedChange, checked_changes

CHANGES = [(0, 11), (1, 22), (0, 0), (2, 33)]


def _registry() -> dict[int, int]:
    heads = {0: 0}
    for j, (slot, value) in enumerate(CHANGES, start=1):
        heads[j] = queue_next(heads[j - 1], slot, value)
    return heads


def _events() -> list[dict[str, int]]:
    heads = _registry()
    return [
        {"index": j, "slot": s, "value": v, "head": heads[j]}
        for j, (s, v) in enumerate(CHANGES, start=1)
    ]


def test_pending_changes_after_applied() -> None:
    heads = _registry()
    got = checked_changes(_events(), applied=1, queued=4, head_at=heads.__getitem__)
    assert got == [QueuedChange(j, s, v) for j, (s, v) in enumerate(CHANGES, 1)][1:]
    assert checked_changes(_events(), applied=4, queued=4, head_at=heads.__getitem__) == []


def test_forged_event_rejected() -> None:
    heads = _registry()
    events = _events()
    # A node replaces the removal at index 3 with another file, keeping the claimed head.
    events[2] = dict(events[2], value=99)
    with pytest.raises(DecodeError, match="queue index 3"):
        checked_changes(events, applied=0, queued=4, head_at=heads.__getitem__)


def test_missing_and_conflicting_events_rejected() -> None:
    heads = _registry()
    with pytest.raises(DecodeError, match="no ChangeQueued event for queue index 2"):
        checked_changes(
            _events()[:1] + _events()[2:], applied=0, queued=4, head_at=heads.__getitem__
        )
    doubled = [*_events(), dict(_events()[1], slot=5)]
    with pytest.raises(DecodeError, match="two different"):
        checked_changes(doubled, applied=0, queued=4, head_at=heads.__getitem__)


def test_reordered_events_rejected() -> None:
    heads = _registry()
    events = _events()
    events[0]["slot"], events[1]["slot"] = events[1]["slot"], events[0]["slot"]
    events[0]["value"], events[1]["value"] = events[1]["value"], events[0]["value"]
    with pytest.raises(DecodeError, match="queue index 1"):
        checked_changes(events, applied=0, queued=4, head_at=heads.__getitem__)


# -- end to end on py-evm (fixtures of test_epoch_registry) ------------------------------------

pytest.importorskip("web3", reason="the provider tests need the test extras (web3)")

import json  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from eth_account import Account  # noqa: E402
from test_epoch_registry import (  # noqa: E402, F401
    accept,
    catalogue_with,
    env,
    epoch_now,
    files,
    fresh_chain,
    gas_report,
    queue,
    request,
    send,
    to_next_epoch,
)

from bigfile_zk import batch, cli, evm, provider  # noqa: E402
from bigfile_zk.epoch import Catalogue  # noqa: E402
from bigfile_zk.errors import (  # noqa: E402
    InsecureSRSError,
    InsecureSRSWarning,
    ParameterError,
    TransactionFailedError,
)
from bigfile_zk.provider import EpochReport, load_files, run_epoch  # noqa: E402


def _run(env, path, located, **kw):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureSRSWarning)
        return run_epoch(
            env.w3, env.registry, env.alice, path, located,
            srs=env.srs, allow_insecure_srs=True, progress=False, **kw,
        )  # fmt: skip


def test_run_epoch_end_to_end(env, files, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "cat.json"
    Catalogue().save(path)
    located = {f.commitment: (f.path, f.tree) for f in files.values()}
    only_a = {files["a"].commitment: located[files["a"].commitment]}
    ids = [request(env, files[n], env.alice) for n in "ab"]
    for i in ids:
        accept(env, i, env.alice)
    # An accepted file the provider does not hold: named, nothing applied.
    with pytest.raises(ParameterError, match=f"{files['b'].c:#x}"):
        _run(env, path, only_a)
    assert queue(env, env.alice)[2] == 0
    # Epoch 0: the empty catalogue is in force, so only the acceptances are applied (proved
    # here on a local worker process: the batch path).
    report = _run(env, path, located, backend="local", workers=1)
    assert report.accepted is None and [u[0] for u in report.updates] == [2]
    assert Catalogue.load(path).count == 2
    e = to_next_epoch(env)
    # A sampled file missing: a clear error and no proof submitted.
    with pytest.raises(ParameterError, match="slot"):
        _run(env, path, only_a)
    assert env.registry.functions.status(env.alice, e).call() == 0
    report = _run(env, path, located)
    assert report.epoch == e and report.accepted is True and report.updates == []
    assert env.registry.functions.status(env.alice, e).call() == 1
    # Same epoch again: already proven, nothing to do.
    again = _run(env, path, located)
    assert again.accepted is None and again.updates == [] and again.gas == {}
    # The client removes a file: applied by the next run, proof not due again this epoch.
    send(env, env.registry.functions.remove(ids[0]), env.client)
    report = _run(env, path, located)
    assert report.accepted is None and [u[0] for u in report.updates] == [3]
    cat = Catalogue.load(path)
    assert cat.file(0) is None and cat.file(1) == files["b"].commitment
    assert epoch_now(env) == e


def test_run_epoch_refuses_the_insecure_srs_without_opt_in(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InsecureSRSError, match="allow_insecure_srs"):
        run_epoch(env.w3, env.registry, env.alice, tmp_path / "cat.json", {})
    with pytest.raises(InsecureSRSError, match="allow_insecure_srs"):
        run_epoch(env.w3, env.registry, env.alice, tmp_path / "cat.json", {}, srs=env.srs)
    assert not (tmp_path / "cat.json").exists()


# -- files lists and batch jobs ------------------------------------------------------------


def _commitment_files(stored: Any, where: Path) -> None:
    for f in stored:
        (where / f"{f.path.name}.commitment.json").write_text(f.commitment.to_json())


def test_load_files_directory_and_list(files, tmp_path) -> None:  # type: ignore[no-untyped-def]
    d = tmp_path / "store" / "sub"
    d.mkdir(parents=True)
    for name in "ab":
        f = files[name]
        (d / f.path.name).write_bytes(f.path.read_bytes())
        (d / f"{f.path.name}.commitment.json").write_text(f.commitment.to_json())
    (d / "b.bin.bfzt").write_bytes(files["b"].tree.read_bytes())
    (d / "orphan.commitment.json").write_text(files["c"].commitment.to_json())  # no data file
    got = load_files(tmp_path / "store")
    assert got == {
        files["a"].commitment: (str(d / "a.bin"), None),
        files["b"].commitment: (str(d / "b.bin"), str(d / "b.bin.bfzt")),
    }
    _commitment_files([files["c"]], tmp_path)
    listing = tmp_path / "files.json"
    listing.write_text(
        json.dumps(
            [
                "store/sub/a.bin",
                {"file": str(files["c"].path), "commitment": "c.bin.commitment.json"},
                {"file": "store/sub/b.bin", "tree": str(files["b"].tree)},
            ]
        )
    )
    got = load_files(listing)
    assert got[files["c"].commitment] == (str(files["c"].path), str(files["c"].tree))
    assert got[files["b"].commitment] == (str(tmp_path / "store/sub/b.bin"), str(files["b"].tree))
    for bad, match in [
        ({"files": []}, "JSON list"),
        ([7], "item 0 is a path or an object"),
        ([{"file": "x", "size": 1}], r"unknown or non-string fields \['size'\]"),
        (["nope.bin"], "nope.bin.commitment.json"),
    ]:
        listing.write_text(json.dumps(bad))
        with pytest.raises((DecodeError, OSError), match=match):
            load_files(listing)


def test_epoch_and_update_jobs_from_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "jobs.json"
    c = '{"type": "x"}'
    spec.write_text(
        json.dumps(
            [
                {"kind": "epoch", "catalogue": "cat.json", "files": "store", "seed": 5,
                 "prover": "0x" + "ab" * 20},
                {"kind": "catalogue-update", "catalogue": "cat.json", "head": "0x00",
                 "changes": [[0, {"type": "x"}], [3, None]], "id": "u"},
            ]
        )
    )  # fmt: skip
    e, u = batch.load_jobs(spec)
    assert isinstance(e, batch.EpochJob) and e.key_id() == ("epoch", 40, 1)
    assert e.catalogue == str(tmp_path / "cat.json") and e.files == str(tmp_path / "store")
    assert isinstance(u, batch.CatalogueUpdateJob) and u.label == "u"
    assert u.changes == ((0, json.dumps(json.loads(c))), (3, None))
    for item, match in [
        ({"kind": "epoch", "catalogue": "c", "files": "f", "seed": 1, "prover": 1, "m": 41},
         "unknown epoch parameter set"),
        ({"kind": "epoch", "catalogue": "c", "files": [[1, "a"]], "seed": 1, "prover": 1},
         r"files\[0\] is \(commitment"),
        ({"kind": "catalogue-update", "catalogue": "c", "head": 0, "changes": [[0, 5]]},
         r"changes\[0\] is \(slot"),
    ]:  # fmt: skip
        spec.write_text(json.dumps([item]))
        with pytest.raises(DecodeError, match=match):
            batch.load_jobs(spec)


# -- the command line: a provider with its own key, against the chain ----------------------

PROVIDER_KEY = bytes.fromhex("5a" * 32)


@pytest.fixture
def cli_chain(env, files, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A provider account of its own (funded; its key in a 0600 key file), the CLI's --rpc
    served by the tests' py-evm chain, and a files list for a, b and c."""
    account = Account.from_key(PROVIDER_KEY)
    tester = env.w3.provider.ethereum_tester
    if account.address not in tester.get_accounts():
        tester.add_account("0x" + PROVIDER_KEY.hex())
    tx = {"from": env.client, "to": account.address, "value": 10**19}
    env.w3.eth.wait_for_transaction_receipt(env.w3.eth.send_transaction(tx))
    monkeypatch.setattr(cli, "_rpc_provider", lambda url: env.w3.provider)
    key_file = tmp_path / "provider.key"
    key_file.write_text("0x" + PROVIDER_KEY.hex() + "\n")
    key_file.chmod(0o600)
    _commitment_files(files.values(), tmp_path)
    listing = tmp_path / "files.json"
    listing.write_text(
        json.dumps(
            [
                {"file": str(f.path), "commitment": f"{f.path.name}.commitment.json",
                 "tree": str(f.tree)}
                for f in files.values()
            ]
        )
    )  # fmt: skip
    return account.address, key_file, listing


def _argv(chain: Any, key_file: Path, listing: Path, cat: Path, *extra: str) -> list[str]:
    return [
        "provider", "epoch", "--rpc", "http://node.invalid", "--registry",
        chain.registry.address, "--key-file", str(key_file), "--catalogue", str(cat),
        "--files", str(listing), "--insecure-test-srs", "-q", *extra,
    ]  # fmt: skip


def test_cli_provider_epoch_end_to_end_in_process_and_on_ray(  # type: ignore[no-untyped-def]
    env,
    files,
    cli_chain,
    ray_cluster,
    tmp_path,
    capsys,
) -> None:
    p, key_file, listing = cli_chain
    cat, report_path = tmp_path / "cat.json", tmp_path / "report.json"
    argv = _argv(env, key_file, listing, cat, "--report", str(report_path))
    for i in [request(env, files[n], p) for n in "ab"]:
        accept(env, i, p)
    # Epoch 0: a new provider (no catalogue file yet); nothing due, the two acceptances applied.
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "proof due           no" in out and "queue to index 2" in out
    report = json.loads(report_path.read_text())
    assert report["due"] is False and [u["to_index"] for u in report["updates"]] == [2]
    assert Catalogue.load(cat).count == 2
    assert (tmp_path / "cat.json.history" / "events.json").exists()
    # Next epoch, on Ray: the epoch proof (of {a, b}) and the update adding c are proved at
    # once, on the cluster's workers; both land.
    e = to_next_epoch(env)
    accept(env, request(env, files["c"], p), p)
    assert cli.main([*argv, "--ray", ray_cluster, "--workers", "2"]) == 0
    out = capsys.readouterr().out
    assert "epoch proof         ACCEPTED" in out and "queue to index 3" in out
    report = json.loads(report_path.read_text())
    assert report["epoch"] == e and report["accepted"] is True
    assert report["catalogue"] == f"0x{catalogue_with(files['a'], files['b']).commitment:064x}"
    assert report["gas"]["submitEpochProof"] <= 400_000
    assert set(report["workers"]) == {"epoch", "update-3"}
    assert env.registry.functions.status(p, e).call() == 1
    assert Catalogue.load(cat).count == 3
    assert env.registry.functions.latestCatalogue(p).call() == Catalogue.load(cat).commitment
    # Again in the same epoch: proven already, nothing queued.
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "proof due           no" in out and "none queued" in out


def test_cli_provider_epoch_bad_input_is_exit_2_and_sends_nothing(  # type: ignore[no-untyped-def]
    env,
    files,
    cli_chain,
    tmp_path,
    capsys,
) -> None:
    p, key_file, listing = cli_chain
    cat = tmp_path / "cat.json"
    nonce = env.w3.eth.get_transaction_count(p)
    argv = _argv(env, key_file, listing, cat)
    bad_key = tmp_path / "bad.key"
    bad_key.write_text("0x1234\n")
    keystore = tmp_path / "keystore.json"
    encrypted = Account.encrypt(PROVIDER_KEY, "right", kdf="pbkdf2", iterations=1000)
    keystore.write_text(json.dumps(encrypted))
    password = tmp_path / "password"
    password.write_text("wrong\n")
    other = Catalogue()
    other.add(files["a"].commitment)
    stale = tmp_path / "stale.json"
    other.save(stale)
    cases = [
        ([a for a in argv if a != "--insecure-test-srs"], "insecure test SRS"),
        (_argv(env, bad_key, listing, cat), "neither a 0x-hex private key"),
        (_argv(env, keystore, listing, cat), "give --password-file"),
        ([*_argv(env, keystore, listing, cat), "--password-file", str(password)], "decrypt"),
        (["0x" + "11" * 20 if a == env.registry.address else a for a in argv],
         "no contract there"),
        (_argv(env, key_file, listing, stale), "is not the registry's latest"),
        ([*argv, "--report", str(listing)], "files"),
    ]  # fmt: skip
    for args, match in cases:
        assert cli.main(args) == 2, args
        err = capsys.readouterr().err
        assert match in err, (match, err)
    assert env.w3.eth.get_transaction_count(p) == nonce
    assert not cat.exists()
    # A keystore with the right password works (nothing due, nothing queued).
    password.write_text("right\n")
    argv = [*_argv(env, keystore, listing, cat), "--password-file", str(password)]
    assert cli.main(argv) == 0 and Catalogue.load(cat).count == 0


def test_cli_provider_epoch_unreachable_node_is_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    key = tmp_path / "k"
    key.write_text(PROVIDER_KEY.hex())
    key.chmod(0o600)
    argv = ["provider", "epoch", "--rpc", "http://127.0.0.1:9", "--registry", "0x" + "11" * 20]
    argv += ["--key-file", str(key), "--catalogue", str(tmp_path / "c.json")]
    argv += ["--files", str(tmp_path), "--insecure-test-srs", "-q"]
    assert cli.main(argv) == 2
    assert "no Ethereum node answers" in capsys.readouterr().err
    argv[3] = "ftp://127.0.0.1/"
    assert cli.main(argv) == 2
    assert "neither an http(s):// URL nor a .ipc path" in capsys.readouterr().err
    argv[3] = "ftp://127.0.0.1/"
    assert cli.main(argv) == 2
    assert "neither an http(s):// URL nor a .ipc path" in capsys.readouterr().err


def test_cli_provider_epoch_rejected_or_reverted_is_exit_1(  # type: ignore[no-untyped-def]
    env,
    cli_chain,
    tmp_path,
    monkeypatch,
    capsys,
) -> None:
    _, key_file, listing = cli_chain
    argv = _argv(env, key_file, listing, tmp_path / "cat.json")

    def rejected(w3, registry, account, *a, **kw):  # type: ignore[no-untyped-def]
        return EpochReport(3, account, due=True, catalogue=1, seed=2, accepted=False)

    monkeypatch.setattr(provider, "run_epoch", rejected)
    assert cli.main(argv) == 1
    assert "epoch proof         REJECTED" in capsys.readouterr().out

    def reverted(*a, **kw):  # type: ignore[no-untyped-def]
        raise TransactionFailedError("submitEpochProof reverted (transaction 0xab)")

    monkeypatch.setattr(provider, "run_epoch", reverted)
    assert cli.main(argv) == 1
    assert "submitEpochProof reverted" in capsys.readouterr().err


def test_shipped_abi_is_the_compiled_one(env) -> None:  # type: ignore[no-untyped-def]
    assert evm.epoch_registry_abi() == env.compiled.abi
