"""``bigfile-zk demo compute``: the proof-of-compute flow end to end, on one machine.

A model owner trains a small digit classifier (scikit-learn's bundled 8x8 digits, no
download), exports it to ONNX with the ``onnx`` helper API, and has bigfile_zk quantize it
(calibration on training images), check its fidelity against the float model run by
onnxruntime, compile it into a circuit and save it as a ``.bfm`` model file, whose BigFile
file commitment names the model on chain. A ``ComputeRegistry`` on an in-process EVM (py-evm)
registers the model with its generated verifier; a client commits to an input image as a
BigFile file and posts a paid job naming a provider; the provider proves the inference for
that job and its own address, and the proof is checked by the Rust verifier, by the
pure-Python reference verifier and by the registry's ``submitResult`` (which builds the
statement itself: input commitment from the job, job id, ``msg.sender``). A forged output is
refused; the provider withdraws its pay. The report gives sizes, times, fidelity and gas.

Without ``--ptau`` the SRS is the embedded insecure test SRS (its τ is public): a demo, not a
security claim. The demo then opts in explicitly where the library refuses that SRS by default
(verifying, generating the verifier contract, registering the model), and its report says so.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import bigfile_zk
from bigfile_zk import _io
from bigfile_zk.demo import Report, _chain, _human, _mark, _transact
from bigfile_zk.errors import InsecureSRSWarning, ParameterError

HIDDEN = 32  # the classifier: 64 pixels -> 32 ReLU -> 10 logits
CALIBRATION_IMAGES = 300
MIN_TOP1_AGREEMENT = 0.95  # the fidelity the demo requires before it proves anything
PAYMENT_WEI = 10**16  # 0.01 ether escrowed per job
JOB_BLOCKS = 50  # a job's deadline, in blocks from posting
OPSET = 17


def _need(module: str, extra: str = "demo") -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ParameterError(
            f"the compute demo needs {module.split('.')[0]}: pip install 'bigfile_zk[{extra}]'"
        ) from exc


def _digits(seed: int) -> tuple[npt.NDArray[np.float64], ...]:
    """scikit-learn's digits as floats in [0, 1] (pixels / 16), split 75/25, stratified."""
    datasets = _need("sklearn.datasets")
    selection = _need("sklearn.model_selection")
    data = datasets.load_digits()
    x = data.data.astype(np.float64) / 16.0
    return tuple(
        selection.train_test_split(
            x, data.target, test_size=0.25, random_state=seed, stratify=data.target
        )
    )


def _train(x: npt.NDArray[np.float64], y: npt.NDArray[Any], seed: int) -> Any:
    neural = _need("sklearn.neural_network")
    clf = neural.MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), max_iter=400, random_state=seed, tol=1e-5
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on a tight max_iter: fine here
        clf.fit(x, y)
    return clf


def export_onnx(clf: Any, path: Path) -> None:
    """A trained ``MLPClassifier`` (ReLU hidden layers, logits out) as an ONNX graph of
    ``Gemm`` (``transB = 1``) and ``Relu`` nodes, input ``[1, 64]`` float32, written with the
    ``onnx`` helper API (no converter package)."""
    onnx = _need("onnx")
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    if clf.activation != "relu":
        raise ParameterError(f"the demo exports ReLU MLPs, got activation {clf.activation!r}")
    nodes, inits = [], []
    cur = "input"
    layers = list(zip(clf.coefs_, clf.intercepts_, strict=True))
    for i, (w, b) in enumerate(layers):
        wn, bn, out = f"W{i}", f"B{i}", f"gemm{i}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(w.T, np.float32), wn))
        inits.append(numpy_helper.from_array(np.asarray(b, np.float32), bn))
        nodes.append(helper.make_node("Gemm", [cur, wn, bn], [out], name=out, transB=1))
        cur = out
        if i + 1 < len(layers):
            nodes.append(helper.make_node("Relu", [cur], [f"relu{i}"], name=f"relu{i}"))
            cur = f"relu{i}"
    n_in, n_out = clf.coefs_[0].shape[0], clf.coefs_[-1].shape[1]
    graph = helper.make_graph(
        nodes,
        "digits_mlp",
        [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [1, n_in])],
        [helper.make_tensor_value_info(cur, onnx.TensorProto.FLOAT, [1, n_out])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # what onnxruntime of the pinned range reads
    onnx.checker.check_model(model)
    _io.write_atomic(path, model.SerializeToString())


def run(
    *,
    ptau: str | os.PathLike[str] | None = None,
    workdir: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    seed: int = 0,
    log: Any = None,
) -> Report:
    """Run the compute demo; ``log(text)`` gets a line per step (default: stderr)."""
    from bigfile_zk import compute, evm
    from bigfile_zk.reference import plonk as ref_plonk

    def say(text: str) -> None:
        (log or (lambda t: print(t, file=sys.stderr, flush=True)))(text)

    report = Report()
    owned = workdir is None
    names = ("digits_mlp.onnx", "digits_mlp.bfm", "input.bin", "compute-proof.json")
    if workdir is not None:
        _io.check_outputs([("ptau file", ptau)], [(name, Path(workdir, name)) for name in names])
    for module in ("sklearn", "onnx", "onnxruntime"):
        _need(module)
    w3 = _chain()
    work = Path(tempfile.mkdtemp(prefix="bigfile-zk-compute-") if workdir is None else workdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        # 1. The model owner: train, export to ONNX.
        say("[1/7] training a digit classifier (scikit-learn digits, 64-32-10 MLP)")
        x_train, x_test, y_train, y_test = _digits(seed)
        t = time.perf_counter()
        clf = _train(x_train, y_train, seed)
        t_train = time.perf_counter() - t
        onnx_path = work / names[0]
        export_onnx(clf, onnx_path)
        float_acc = float(np.mean(clf.predict(x_test) == y_test))
        report.add(
            "model",
            f"MLP 64-{HIDDEN}-10 (ReLU), trained in {t_train:.1f} s on {len(x_train)} digits; "
            f"float top-1 {float_acc:.2%} on {len(x_test)} held out",
        )
        report.add("ONNX", f"{onnx_path.name} ({_human(onnx_path.stat().st_size)}, Gemm/Relu)")

        # 2. Quantize with calibration images; fidelity against onnxruntime's float run.
        say("[2/7] quantizing (calibration) and checking fidelity against onnxruntime")
        t = time.perf_counter()
        imported = compute.load_onnx(
            onnx_path,
            calibration=x_train[:CALIBRATION_IMAGES],
            heldout=x_test,
            tolerance=compute.Tolerance(min_top1_agreement=MIN_TOP1_AGREEMENT, max_abs_delta=None),
        )
        t_quant = time.perf_counter() - t
        qmodel = imported.qmodel
        assert imported.fidelity is not None
        report.add("quantize", f"{t_quant:.2f} s (int8 weights per channel, uint8 activations)")
        for i, line in enumerate(imported.fidelity.lines()):
            report.add("fidelity" if i == 0 else "", line)

        # 3. Compile to a circuit; the model file and its BigFile name.
        say("[3/7] compiling the circuit; writing the model file")
        t = time.perf_counter()
        compiled = compute.compile(qmodel)
        t_compile = time.perf_counter() - t
        rep = compiled.report()
        bfm = work / names[1]
        compiled.save(bfm)
        model_c = bigfile_zk.commit_file(bfm).commitment
        report.add(
            "circuit",
            f"{rep['rows']:,} rows (2^{rep['k']}), compiled in {t_compile:.2f} s; predicted "
            f"prove {rep['predicted_prove_seconds']:.1f} s, "
            f"{_human(rep['predicted_peak_memory_bytes'])}",
        )
        report.add(
            "model file", f"{bfm.name} ({_human(bfm.stat().st_size)}), commitment 0x{model_c:064x}"
        )

        # 4. Keys, the model's verifier, the registry.
        say("[4/7] keys; deploying the model's verifier and ComputeRegistry (py-evm)")
        insecure = ptau is None  # the demo's explicit opt-in to the insecure test SRS
        t = time.perf_counter()
        if ptau is not None:
            srs = bigfile_zk.SRS.from_ptau(ptau, max_degree=compiled.srs_max_degree)
            srs_note = f"from {ptau}"
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", InsecureSRSWarning)
                srs = compiled.default_srs()
            srs_note = (
                "insecure test SRS (demo only: tau is public, anyone can forge proofs; "
                "verifier contract has INSECURE_TEST_SRS = true)"
            )
        pk, vk = compiled.keys(srs, progress=progress)
        t_keys = time.perf_counter() - t
        digest = compiled.vk_digest(srs)
        report.add("SRS", srs_note)
        report.add("keys", f"{t_keys:.2f} s; VK digest {digest}")
        evm.install_solc()
        evm.install_openzeppelin()
        verifier = evm.deploy(
            w3,
            evm.compile(compiled.verifier_solidity(vk, allow_insecure_srs=insecure)),
        )
        registry = evm.deploy_compute_registry(w3, allow_insecure_srs=insecure)
        owner, client, provider, thief = w3.eth.accounts[:4]
        gas: list[tuple[str, int]] = []
        receipt = _transact(
            w3,
            registry.functions.registerModel(
                verifier.address, bytes.fromhex(digest[2:]), model_c, compiled.num_outputs
            ),
            owner,
        )
        model_id = registry.events.ModelRegistered().process_receipt(receipt)[0]["args"]["modelId"]
        gas.append(("registerModel", receipt["gasUsed"]))

        # 5. The client: an input image as a BigFile file, a paid job for one provider.
        idx = int(np.flatnonzero(clf.predict(x_test) == y_test)[0])
        x_int = qmodel.quantize_input(x_test[idx], saturate=True)  # calibrated range
        data = qmodel.input_bytes(x_int)
        input_path = work / names[2]
        _io.write_atomic(input_path, data)
        input_c = bigfile_zk.commit_file(input_path).commitment
        say(f"[5/7] posting a job: held-out image #{idx} (label {y_test[idx]})")
        deadline = w3.eth.block_number + JOB_BLOCKS
        call = registry.functions.postJob(
            model_id, input_c, provider, deadline, evm_native(), PAYMENT_WEI
        )
        receipt = w3.eth.wait_for_transaction_receipt(
            call.transact({"from": client, "value": PAYMENT_WEI, "gas": 5_000_000})
        )
        if receipt["status"] != 1:
            raise RuntimeError(f"postJob failed: {receipt}")
        job_id = registry.events.JobPosted().process_receipt(receipt)[0]["args"]["jobId"]
        gas.append(("postJob (native, escrow)", receipt["gasUsed"]))
        report.add(
            "job",
            f"#{job_id}: input {input_path.name} ({len(data)} B, commitment 0x{input_c:064x}), "
            f"{PAYMENT_WEI / 1e18:g} ETH escrowed, due by block {deadline}",
        )

        # 6. The provider proves the inference for this job and its own address.
        say("[6/7] proving the inference")
        t = time.perf_counter()
        proof = compiled.prove(pk, x_int, job=job_id, provider=provider, progress=progress)
        t_prove = time.perf_counter() - t
        proof.save(work / names[3])
        y_int = qmodel.forward_int(x_int)
        predicted = int(np.argmax(y_int))
        raw = proof.proof.to_evm_bytes()
        report.add("prove", f"{t_prove:.2f} s")
        report.add(
            "outputs",
            f"logits {[int(v) for v in np.ravel(y_int)]} -> class {predicted} "
            f"(label {y_test[idx]}); equal to the numpy oracle",
        )
        report.add(
            "proof",
            f"{len(raw)} bytes; public inputs [input commitment, job, provider, "
            f"{len(proof.outputs)} outputs]",
        )

        # 7. Verify, each for the statement the verifier expects (the job's input commitment,
        # the job id, the submitting provider; never what proof.json claims), then get paid.
        say("[7/7] verifying: Rust, Python reference, EVM (ComputeRegistry.submitResult)")
        expected = compiled.expected_outputs(y_int)
        t = time.perf_counter()
        ok_rust = compute.verify(
            vk,
            proof,
            input_commitment=input_c,
            job=job_id,
            provider=provider,
            outputs=expected,
            allow_insecure_srs=insecure,
        )
        t_rust = time.perf_counter() - t
        public = [input_c, job_id, int(provider, 16), *expected]
        t = time.perf_counter()
        ok_ref = ref_plonk.verify(ref_plonk.VerifyingKey.from_bytes(vk.to_bytes()), raw, public)
        t_ref = time.perf_counter() - t
        verify_gas = evm.min_gas(w3, verifier.address, evm.calldata(raw, public))

        # A forged output (the top logit moved to another class) is refused, on chain too.
        forged = list(expected)
        forged[0] = (forged[0] + 1) % bigfile_zk.MODULUS
        ok_forged_rust = compute.verify(
            vk,
            proof,
            input_commitment=input_c,
            job=job_id,
            provider=provider,
            outputs=forged,
            allow_insecure_srs=insecure,
        )
        receipt = _transact(w3, registry.functions.submitResult(job_id, forged, raw), provider)
        rejected = bool(registry.events.ResultRejected().process_receipt(receipt))
        gas.append(("submitResult (forged output, rejected)", receipt["gasUsed"]))
        # The same bytes submitted by another account: the registry puts msg.sender in.
        stolen = registry.functions.submitResult(*evm.submit_result_args(proof))
        try:
            stolen_ok = bool(stolen.call({"from": thief, "gas": 5_000_000}))
        except Exception:  # reverted: not the job's provider
            stolen_ok = False

        receipt = _transact(
            w3, registry.functions.submitResult(*evm.submit_result_args(proof)), provider
        )
        ok_chain = bool(registry.events.ResultAccepted().process_receipt(receipt))
        gas.append(("submitResult (accepted, pays)", receipt["gasUsed"]))
        before = w3.eth.get_balance(provider)
        receipt = _transact(w3, registry.functions.withdraw(evm_native()), provider)
        paid = (
            w3.eth.get_balance(provider)
            - before
            + receipt["gasUsed"] * receipt["effectiveGasPrice"]
        )
        gas.append(("withdraw", receipt["gasUsed"]))

        report.add("verify (Rust)", f"{_mark(ok_rust)} {t_rust * 1e3:.1f} ms")
        report.add("verify (Python ref.)", f"{_mark(ok_ref)} {t_ref:.2f} s")
        report.add(
            "verify (EVM)",
            f"{_mark(ok_chain)} verifyProof {verify_gas:,} gas (whole tx); registry "
            f"submitResult accepted, {paid / 1e18:g} ETH withdrawn",
        )
        report.add(
            "forgeries",
            f"{_mark(rejected and not ok_forged_rust)} forged output refused (Rust, EVM), "
            f"{_mark(not stolen_ok)} proof submitted by another account refused",
        )
        for i, (what, used) in enumerate(gas):
            report.add("gas" if i == 0 else "", f"{what:<40} {used:>9,}")
        report.ok = (
            ok_rust
            and ok_ref
            and ok_chain
            and rejected
            and not ok_forged_rust
            and not stolen_ok
            and paid == PAYMENT_WEI
        )
        report.add("workdir", f"{work}" + (" (removed)" if owned else ""))
        return report
    finally:
        if owned:
            shutil.rmtree(work, ignore_errors=True)


def evm_native() -> str:
    """The registry's token address for the native currency."""
    return "0x" + "00" * 20
