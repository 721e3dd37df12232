// SPDX-License-Identifier: MIT OR Apache-2.0
// The on-chain job registry of bigfile_zk proof-of-compute (docs/spec/compute-registry.md).
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @notice A model's verifier as `CompiledModel.verifier_solidity(vk)` generates it
/// (docs/spec/solidity.md): public inputs `[C_x, job, provider, y_0..y_{m-1} or H_y]`; false
/// (never a revert) for any wrong proof or input.
interface IComputeVerifier {
    function verifyProof(bytes calldata proof, uint256[] calldata publicInputs)
        external
        view
        returns (bool);

    /// keccak256 of the verifying key: the model's identity (`CompiledModel.vk_digest`).
    function VK_DIGEST() external view returns (bytes32);

    function NUM_PUBLIC_INPUTS() external view returns (uint256);

    /// True iff the key came from the insecure test SRS (anyone can forge its proofs).
    function INSECURE_TEST_SRS() external view returns (bool);
}

/// @title ComputeRegistry: paid proof-of-compute jobs, settled by each model's verifier
/// @notice A model owner registers a model (its verifier contract, verifying-key digest,
/// model-file commitment and output count). A client posts a job for a model: the BigFile
/// commitment of the input, a provider (or none: any registered provider may answer), a
/// deadline block and a payment escrowed here (native currency or an ERC-20 token). The first
/// result whose proof the model's verifier accepts, submitted by an allowed provider by the
/// deadline, settles the job: its outputs are recorded and the payment is credited to the
/// provider. After the deadline an unsettled job's payment is credited back to its client.
/// Credits are withdrawn with `withdraw` (pull payments).
///
/// @dev The registry builds every proof's statement itself (docs/spec/compute-registry.md):
/// the input commitment from the job, the job id it assigned, `msg.sender` as provider, and
/// the outputs given; only the outputs come from the submitter, and they are what the proof
/// shows the model computes. It trusts a model's verifier contract (and so whoever
/// registered the model): clients choose models whose verifier they checked.
contract ComputeRegistry is ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// The BN254 scalar field order: commitments and outputs must be below it.
    uint256 public constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    /// Outputs beyond this many enter the statement as one Poseidon hash `H_y`.
    uint32 public constant MAX_PUBLIC_OUTPUTS = 12;

    /// Gas that must be left when the verifier is called. A verifier starved of gas (its
    /// precompile calls fail) answers false: without this floor an under-funded submission
    /// would be recorded as a rejected result. A generated compute verifier spends about
    /// 300k gas whatever the model (its work is fixed but for ~150 gas per public input;
    /// docs/spec/solidity.md) and receives at least 63/64 of this. `submitResult` therefore
    /// needs a gas limit of about 460k although it uses about 400k; a node's gas estimate
    /// finds that limit.
    uint256 public constant MIN_VERIFY_GAS = 400_000;

    /// `token` of a job paid in the chain's native currency.
    address public constant NATIVE = address(0);

    enum JobStatus {
        None, // no such job
        Open, // escrowed; results accepted until the deadline block
        Accepted, // a result was accepted and the provider credited
        Refunded // expired without a result; the client credited
    }

    struct Model {
        address owner; // registered it, may retire it
        uint32 numOutputs; // m, the model's output count
        bool retired; // no new jobs (open ones run to their end)
        IComputeVerifier verifier; // immutable once registered
        bytes32 vkDigest; // the verifier's VK_DIGEST(), immutable
        uint256 weightsCommitment; // BigFile commitment of the model file (.bfm), < R
    }

    struct Job {
        address client; // posted and paid for it; gets a refund after the deadline
        uint64 modelId;
        JobStatus status;
        address provider; // who may answer (0: any registered provider); once accepted, who did
        uint64 deadline; // the last block (inclusive) in which a result is accepted
        address token; // NATIVE or an ERC-20 token
        uint256 amount; // escrowed payment
        uint256 inputCommitment; // C_x, the BigFile commitment of the input file, < R
        bytes32 outputsDigest; // keccak256(abi.encodePacked(outputs)) of the accepted result
    }

    /// Whether `registerModel` accepts verifiers made with the insecure test SRS (tests and
    /// demos only: anyone can forge their proofs).
    bool public immutable allowInsecureTestSrs;

    /// Models by id; ids are 1, 2, ... (0 is never a model).
    mapping(uint64 modelId => Model) public models;
    uint64 public modelCount;

    /// Jobs by id; ids are 1, 2, ... (0 is never a job). The id is the proof's `job` input.
    mapping(uint64 jobId => Job) public jobs;
    uint64 public jobCount;

    /// Providers that may answer open jobs.
    mapping(address provider => bool) public isProvider;

    /// Withdrawable credit per account and token (NATIVE for the native currency).
    mapping(address account => mapping(address token => uint256)) public balances;

    event ModelRegistered(
        uint64 indexed modelId,
        address indexed owner,
        address verifier,
        bytes32 vkDigest,
        uint256 weightsCommitment,
        uint32 numOutputs
    );
    event ModelRetired(uint64 indexed modelId);
    event ProviderRegistered(address indexed provider);
    event JobPosted(
        uint64 indexed jobId,
        uint64 indexed modelId,
        address indexed client,
        address provider,
        uint256 inputCommitment,
        uint64 deadline,
        address token,
        uint256 amount
    );
    /// `outputs` are the statement's: `y_i` as field elements (`r + v` for `v < 0`), or
    /// `[H_y]` past MAX_PUBLIC_OUTPUTS.
    event ResultAccepted(uint64 indexed jobId, address indexed provider, uint256[] outputs);
    event ResultRejected(uint64 indexed jobId, address indexed provider);
    event JobRefunded(uint64 indexed jobId, address indexed client, address token, uint256 amount);
    event Withdrawn(address indexed account, address indexed token, uint256 amount);

    error InvalidVerifier(address verifier);
    error VkDigestMismatch(bytes32 given, bytes32 verifiers);
    error PublicInputCountMismatch(uint256 expected, uint256 verifiers);
    error InsecureVerifier(address verifier);
    error ZeroOutputs();
    error CommitmentNotInField(uint256 commitment);
    error UnknownModel(uint64 modelId);
    error NotModelOwner(uint64 modelId, address caller);
    error ModelIsRetired(uint64 modelId);
    error AlreadyRegistered(address provider);
    error DeadlineNotInFuture(uint64 deadline, uint256 blockNumber);
    error WrongValue(uint256 sent, uint256 expected);
    error InvalidToken(address token);
    error TransferAmountMismatch(address token, uint256 expected, uint256 received);
    error UnknownJob(uint64 jobId);
    error JobNotOpen(uint64 jobId, JobStatus status);
    /// Results for `jobId` were accepted up to block `deadline` (inclusive).
    error TooLate(uint64 jobId, uint64 deadline);
    error NotProvider(uint64 jobId, address caller);
    error NotRegisteredProvider(address caller);
    error WrongOutputCount(uint256 given, uint256 expected);
    error OutputNotInField(uint256 index, uint256 value);
    error InsufficientGas(uint256 available, uint256 required);
    error NotClient(uint64 jobId, address caller);
    /// A refund is possible only after block `deadline`.
    error DeadlineNotPassed(uint64 jobId, uint64 deadline);
    error NothingToWithdraw(address account, address token);

    /// @param allowInsecureTestSrs_ accept verifiers whose key came from the insecure test
    /// SRS (`INSECURE_TEST_SRS() == true`): for tests and demos only
    constructor(bool allowInsecureTestSrs_) {
        allowInsecureTestSrs = allowInsecureTestSrs_;
    }

    // -- models ---------------------------------------------------------------------------

    /// @notice Register a model (the caller is its owner): `verifier` is its generated
    /// verifier contract, `vkDigest` its verifying key's digest (`CompiledModel.vk_digest`,
    /// which must equal the verifier's `VK_DIGEST()`), `weightsCommitment` the BigFile
    /// commitment of the model file (informative: where to fetch the model and check the
    /// digest), `numOutputs` the model's output count `m` (the verifier must take
    /// `3 + publicOutputCount(m)` public inputs).
    /// @dev The getters are read through STATICCALL. They catch mistakes, not a malicious
    /// verifier, which can answer anything: the registry trusts the verifier a model owner
    /// registers, and clients check it (docs/spec/compute-registry.md, "Trust").
    function registerModel(
        IComputeVerifier verifier,
        bytes32 vkDigest,
        uint256 weightsCommitment,
        uint32 numOutputs
    ) external returns (uint64 modelId) {
        if (address(verifier).code.length == 0) revert InvalidVerifier(address(verifier));
        if (numOutputs == 0) revert ZeroOutputs();
        if (weightsCommitment >= R) revert CommitmentNotInField(weightsCommitment);
        bytes32 digest = verifier.VK_DIGEST();
        if (digest != vkDigest) revert VkDigestMismatch(vkDigest, digest);
        uint256 expected = 3 + publicOutputCount(numOutputs);
        uint256 actual = verifier.NUM_PUBLIC_INPUTS();
        if (actual != expected) revert PublicInputCountMismatch(expected, actual);
        if (verifier.INSECURE_TEST_SRS() && !allowInsecureTestSrs) {
            revert InsecureVerifier(address(verifier));
        }
        modelId = ++modelCount;
        models[modelId] = Model({
            owner: msg.sender,
            numOutputs: numOutputs,
            retired: false,
            verifier: verifier,
            vkDigest: vkDigest,
            weightsCommitment: weightsCommitment
        });
        emit ModelRegistered(
            modelId, msg.sender, address(verifier), vkDigest, weightsCommitment, numOutputs
        );
    }

    /// @notice Refuse new jobs for `modelId` (its owner only; final). Jobs already posted
    /// are unaffected: they can be answered until their deadline and refunded after it.
    function retireModel(uint64 modelId) external {
        Model storage model = _model(modelId);
        if (msg.sender != model.owner) revert NotModelOwner(modelId, msg.sender);
        if (model.retired) revert ModelIsRetired(modelId);
        model.retired = true;
        emit ModelRetired(modelId);
    }

    /// The number of output words in the statement of a model with `numOutputs` outputs:
    /// `numOutputs` up to MAX_PUBLIC_OUTPUTS, else 1 (the hash `H_y`).
    function publicOutputCount(uint32 numOutputs) public pure returns (uint256) {
        return numOutputs <= MAX_PUBLIC_OUTPUTS ? numOutputs : 1;
    }

    // -- providers ------------------------------------------------------------------------

    /// @notice Register the caller as a provider, who may answer open jobs.
    function registerProvider() external {
        if (isProvider[msg.sender]) revert AlreadyRegistered(msg.sender);
        isProvider[msg.sender] = true;
        emit ProviderRegistered(msg.sender);
    }

    // -- jobs -----------------------------------------------------------------------------

    /// @notice Post a job (the caller is the client): run model `modelId` on the input file
    /// committed as `inputCommitment`, answered by `provider` (0: any registered provider) by
    /// block `deadline` (inclusive, in the future), for `amount` of `token` (NATIVE: sent as
    /// `msg.value`; an ERC-20: pulled with `transferFrom`, after an `approve`), escrowed
    /// until the job settles. Returns the job id, which every proof for it must be made for.
    /// @dev Tokens that move another amount than asked (fees on transfer, rebasing) are
    /// refused (`TransferAmountMismatch`): the escrow must hold what it owes.
    function postJob(
        uint64 modelId,
        uint256 inputCommitment,
        address provider,
        uint64 deadline,
        address token,
        uint256 amount
    ) external payable nonReentrant returns (uint64 jobId) {
        Model storage model = _model(modelId);
        if (model.retired) revert ModelIsRetired(modelId);
        if (inputCommitment >= R) revert CommitmentNotInField(inputCommitment);
        if (deadline <= block.number) revert DeadlineNotInFuture(deadline, block.number);
        if (token == NATIVE) {
            if (msg.value != amount) revert WrongValue(msg.value, amount);
        } else {
            if (msg.value != 0) revert WrongValue(msg.value, 0);
            if (token.code.length == 0) revert InvalidToken(token);
        }
        jobId = ++jobCount;
        jobs[jobId] = Job({
            client: msg.sender,
            modelId: modelId,
            status: JobStatus.Open,
            provider: provider,
            deadline: deadline,
            token: token,
            amount: amount,
            inputCommitment: inputCommitment,
            outputsDigest: bytes32(0)
        });
        emit JobPosted(
            jobId, modelId, msg.sender, provider, inputCommitment, deadline, token, amount
        );
        if (token != NATIVE && amount != 0) {
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
            uint256 received = IERC20(token).balanceOf(address(this)) - before;
            if (received != amount) revert TransferAmountMismatch(token, amount, received);
        }
    }

    /// @notice Answer job `jobId` with the model's `outputs` (the statement's output words:
    /// `CompiledModel.expected_outputs(y)`) and the proof of
    /// `compiled.prove(pk, x, job=jobId, provider=msg.sender)` (`proof.to_evm_bytes()`).
    /// Accepted: the job is settled (`ResultAccepted`, outputs digest recorded, the payment
    /// credited to the caller). Rejected by the verifier: `ResultRejected`, nothing else
    /// changes, the job stays open for any allowed provider. Reverts, changing nothing:
    /// `UnknownJob`, `JobNotOpen` (settled already), `TooLate`, `NotProvider` (a job for
    /// another provider), `NotRegisteredProvider` (an open job), `WrongOutputCount`,
    /// `OutputNotInField`, `InsufficientGas` (see MIN_VERIFY_GAS).
    /// @dev The verifier is called through STATICCALL (`view`): it cannot change state; the
    /// outcome is recorded after the call because it depends on the answer.
    function submitResult(uint64 jobId, uint256[] calldata outputs, bytes calldata proof)
        external
        nonReentrant
        returns (bool accepted)
    {
        Job storage job = _job(jobId);
        if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);
        if (block.number > job.deadline) revert TooLate(jobId, job.deadline);
        if (job.provider == address(0)) {
            if (!isProvider[msg.sender]) revert NotRegisteredProvider(msg.sender);
        } else if (msg.sender != job.provider) {
            revert NotProvider(jobId, msg.sender);
        }
        Model storage model = models[job.modelId];
        uint256[] memory inputs =
            _statement(job.inputCommitment, jobId, msg.sender, outputs, model.numOutputs);
        if (gasleft() < MIN_VERIFY_GAS) revert InsufficientGas(gasleft(), MIN_VERIFY_GAS);
        accepted = model.verifier.verifyProof(proof, inputs);
        if (!accepted) {
            emit ResultRejected(jobId, msg.sender);
            return false;
        }
        job.status = JobStatus.Accepted;
        job.provider = msg.sender;
        job.outputsDigest = keccak256(abi.encodePacked(outputs));
        balances[msg.sender][job.token] += job.amount;
        emit ResultAccepted(jobId, msg.sender, outputs);
    }

    /// @notice Credit an expired job's payment back to its client (the client only, after
    /// the deadline block, if no result was accepted).
    function refund(uint64 jobId) external nonReentrant {
        Job storage job = _job(jobId);
        if (msg.sender != job.client) revert NotClient(jobId, msg.sender);
        if (job.status != JobStatus.Open) revert JobNotOpen(jobId, job.status);
        if (block.number <= job.deadline) revert DeadlineNotPassed(jobId, job.deadline);
        job.status = JobStatus.Refunded;
        balances[msg.sender][job.token] += job.amount;
        emit JobRefunded(jobId, msg.sender, job.token, job.amount);
    }

    /// @notice Pay out the caller's whole credit in `token` (NATIVE: the native currency,
    /// sent with all remaining gas; a receiver that reverts keeps its credit).
    function withdraw(address token) external nonReentrant returns (uint256 amount) {
        amount = balances[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw(msg.sender, token);
        balances[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, amount);
        if (token == NATIVE) {
            Address.sendValue(payable(msg.sender), amount);
        } else {
            IERC20(token).safeTransfer(msg.sender, amount);
        }
    }

    // -- views ----------------------------------------------------------------------------

    /// The public inputs `submitResult` passes to the verifier when `provider` answers
    /// `jobId` with `outputs` (reverts as `submitResult` does on malformed outputs).
    function statement(uint64 jobId, address provider, uint256[] calldata outputs)
        external
        view
        returns (uint256[] memory)
    {
        Job storage job = _job(jobId);
        return _statement(
            job.inputCommitment, jobId, provider, outputs, models[job.modelId].numOutputs
        );
    }

    /// Whether `outputs` are the accepted result of `jobId`: what another contract checks
    /// outputs given to it against (the registry stores their digest; the values are in
    /// `ResultAccepted`).
    function isAcceptedResult(uint64 jobId, uint256[] calldata outputs)
        external
        view
        returns (bool)
    {
        Job storage job = jobs[jobId];
        return job.status == JobStatus.Accepted
            && job.outputsDigest == keccak256(abi.encodePacked(outputs));
    }

    // -- internals ------------------------------------------------------------------------

    function _model(uint64 modelId) internal view returns (Model storage model) {
        model = models[modelId];
        if (model.owner == address(0)) revert UnknownModel(modelId);
    }

    function _job(uint64 jobId) internal view returns (Job storage job) {
        job = jobs[jobId];
        if (job.status == JobStatus.None) revert UnknownJob(jobId);
    }

    /// `[inputCommitment, jobId, provider, outputs...]`, outputs checked: as many as the
    /// model's statement has, each a field element (the verifier would refuse others too;
    /// checking here gives a revert naming the value instead of a rejected result).
    function _statement(
        uint256 inputCommitment,
        uint64 jobId,
        address provider,
        uint256[] calldata outputs,
        uint32 numOutputs
    ) internal pure returns (uint256[] memory inputs) {
        uint256 expected = publicOutputCount(numOutputs);
        if (outputs.length != expected) revert WrongOutputCount(outputs.length, expected);
        inputs = new uint256[](3 + expected);
        inputs[0] = inputCommitment;
        inputs[1] = jobId;
        inputs[2] = uint256(uint160(provider));
        for (uint256 i = 0; i < expected; ++i) {
            if (outputs[i] >= R) revert OutputNotInField(i, outputs[i]);
            inputs[3 + i] = outputs[i];
        }
    }
}
