// SPDX-License-Identifier: MIT OR Apache-2.0
// One proof-of-storage per provider per epoch over its catalogue of files
// (docs/spec/storage-catalogue.md, docs/spec/proof-of-storage-epoch.md).
pragma solidity 0.8.28;

import {IRandomnessSource, IStorageVerifier} from "StorageRegistry.sol";
import {PoseidonT3} from "PoseidonT3.sol";

/// @title EpochRegistry: providers' catalogues of files, and one storage proof per provider
/// per epoch
/// @notice A client requests storage of a file commitment by a provider; the provider accepts
/// it, which queues the change "slot i now holds C" for its catalogue (a depth-16 Poseidon
/// tree of file commitments, committed as K = Poseidon(root, count)). The registry never
/// hashes the tree: it keeps the queue digest `h' = Poseidon(h, Poseidon(slot, value))` and
/// learns the new K from an update proof (anyone may submit one: the result is a function of
/// the old K and the queued changes). Each epoch, a provider whose catalogue is not empty
/// proves with one epoch proof (public inputs `[K, seed, provider]`) that it still holds a
/// random sample of its files, for a seed derived from the epoch's randomness.
///
/// @dev What it guarantees, and what it does not:
/// * Only the file's client can empty its slot (`remove`), and only the provider can put a
///   requested file into its catalogue (`accept`): a client cannot drop or add another client's
///   file, and cannot fill a provider's catalogue with files it never agreed to store.
/// * The update proof replays exactly the queued changes, in order, up to a recorded queue
///   digest: a provider cannot leave a queued file out of its catalogue while applying later
///   changes. It can delay applying them; a file counts as stored (`inCatalogue`) only from
///   the update that applies its acceptance, which is what a payment contract should read.
/// * The catalogue an epoch is proven against is the one in force when the epoch began:
///   updates made during epoch e take effect in epoch e + 1, so nobody can change the sample
///   (which depends on `count`) after seeing the epoch's randomness.
/// * Sampling is probabilistic: a missing file escapes an epoch with the probability the epoch
///   spec states. Randomness and its trust assumptions are those of `StorageRegistry`.
/// * The registry only records outcomes; payments and penalties belong to a contract reading
///   it. With the insecure test SRS anybody can forge proofs.
contract EpochRegistry {
    uint256 public constant R = 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    /// K of the empty catalogue: Poseidon(Z_16, 0), Z_16 the root of the all-zero depth-16 tree.
    uint256 public constant EMPTY_CATALOGUE =
        0x2bed999307a781dfb61923cd3a9f909c2d32517f283a641b8b8ff1c7503f6a86;
    /// Slots per catalogue (2^16) and changes one update proof applies.
    uint64 public constant SLOTS = 65536;
    uint64 public constant OPS = 24;
    /// Gas left at a verifier call (see `StorageRegistry.MIN_VERIFY_GAS`).
    uint256 public constant MIN_VERIFY_GAS = 400_000;

    enum FileStatus {
        None,
        Requested,
        Cancelled,
        Accepted,
        Removed
    }

    enum EpochStatus {
        Open,
        Proven,
        Missed,
        Excused
    }

    struct File {
        address client;
        FileStatus status;
        address provider;
        uint64 slot;
        uint64 addIndex; // queue index of its acceptance (1-based; 0: none)
        uint64 removeIndex; // queue index of its removal (0: none)
        uint256 commitment;
    }

    /// A provider's queue: changes queued and applied; the digest after each queued change.
    struct Queue {
        uint64 nextSlot;
        uint64 queued;
        uint64 applied;
    }

    /// The catalogue in force from epoch `fromEpoch` on (until the next entry's).
    struct Catalogue {
        uint64 fromEpoch;
        uint256 commitment;
    }

    IStorageVerifier public immutable epochVerifier;
    IStorageVerifier public immutable updateVerifier;
    IRandomnessSource public immutable randomnessSource;
    uint64 public immutable genesisBlock;
    uint64 public immutable epochLength;
    uint64 public immutable proofWindow;

    mapping(uint256 fileId => File) public files;
    uint256 public fileCount;
    mapping(address provider => Queue) public queues;
    /// `queueHead[p][j]`: the queue digest after p's first j changes (`[p][0]` = 0).
    mapping(address provider => mapping(uint64 index => uint256)) public queueHead;
    mapping(address provider => Catalogue[]) internal _catalogues;

    mapping(uint64 epoch => uint256) public epochRandomness;
    mapping(uint64 epoch => uint64) public randomnessBlock;
    mapping(address provider => mapping(uint64 epoch => EpochStatus)) internal _status;
    mapping(address provider => uint256) public provenEpochs;
    mapping(address provider => uint256) public missedEpochs;
    mapping(address provider => uint256) public excusedEpochs;
    mapping(address provider => uint256) public invalidProofs;

    event FileRequested(uint256 indexed fileId, address indexed client, address indexed provider, uint256 commitment);
    event FileCancelled(uint256 indexed fileId);
    /// A change of `provider`'s catalogue was queued: `slot` now holds `value` (0: removed).
    event ChangeQueued(address indexed provider, uint64 indexed index, uint64 slot, uint256 value, uint256 head);
    event CatalogueUpdated(address indexed provider, uint64 applied, uint256 commitment, uint64 fromEpoch);
    event EpochBegun(uint64 indexed epoch, uint256 randomness);
    event ProofAccepted(address indexed provider, uint64 indexed epoch, uint256 catalogue, uint256 seed);
    event ProofRejected(address indexed provider, uint64 indexed epoch, uint256 catalogue, uint256 seed);
    event ProofMissed(address indexed provider, uint64 indexed epoch);
    event ProofExcused(address indexed provider, uint64 indexed epoch);

    error InvalidContract(address account);
    error InvalidEpochParameters(uint64 epochLength, uint64 proofWindow);
    error CommitmentNotInField(uint256 commitment);
    error ZeroCommitment();
    error ZeroProvider();
    error UnknownFile(uint256 fileId);
    error NotClient(uint256 fileId, address caller);
    error NotProvider(uint256 fileId, address caller);
    error WrongStatus(uint256 fileId, FileStatus status);
    error CatalogueFull(address provider);
    /// `upTo` must lie in `(applied, queued]` and apply at most `OPS` changes.
    error BadUpdateRange(address provider, uint64 applied, uint64 queued, uint64 upTo);
    error InvalidUpdateProof(address provider, uint64 upTo);
    error NotDue(address provider, uint64 epoch);
    error RandomnessNotFixed(uint64 epoch);
    error RandomnessUnavailable(uint64 epoch);
    error TooLate(uint64 epoch, uint256 deadline);
    error TooEarly(uint64 epoch, uint256 deadline);
    error AlreadyRecorded(address provider, uint64 epoch, EpochStatus status);
    error InsufficientGas(uint256 available, uint256 required);

    constructor(
        IStorageVerifier epochVerifier_,
        IStorageVerifier updateVerifier_,
        IRandomnessSource randomnessSource_,
        uint64 epochLength_,
        uint64 proofWindow_
    ) {
        for (uint256 i = 0; i < 3; i++) {
            address a = i == 0 ? address(epochVerifier_) : i == 1 ? address(updateVerifier_) : address(randomnessSource_);
            if (a.code.length == 0) revert InvalidContract(a);
        }
        if (proofWindow_ == 0 || proofWindow_ > epochLength_) {
            revert InvalidEpochParameters(epochLength_, proofWindow_);
        }
        epochVerifier = epochVerifier_;
        updateVerifier = updateVerifier_;
        randomnessSource = randomnessSource_;
        epochLength = epochLength_;
        proofWindow = proofWindow_;
        genesisBlock = uint64(block.number);
    }

    // -- files and the queue ----------------------------------------------------------------

    /// @notice Ask `provider` to store the file of `commitment` (the caller is the client).
    function request(uint256 commitment, address provider) external returns (uint256 fileId) {
        if (commitment >= R) revert CommitmentNotInField(commitment);
        // 0 marks an empty slot in the catalogue.
        if (commitment == 0) revert ZeroCommitment();
        if (provider == address(0)) revert ZeroProvider();
        fileId = ++fileCount;
        File storage f = files[fileId];
        f.client = msg.sender;
        f.status = FileStatus.Requested;
        f.provider = provider;
        f.commitment = commitment;
        emit FileRequested(fileId, msg.sender, provider, commitment);
    }

    /// @notice Withdraw a request the provider has not accepted (the client only).
    function cancel(uint256 fileId) external {
        File storage f = _file(fileId);
        if (msg.sender != f.client) revert NotClient(fileId, msg.sender);
        if (f.status != FileStatus.Requested) revert WrongStatus(fileId, f.status);
        f.status = FileStatus.Cancelled;
        emit FileCancelled(fileId);
    }

    /// @notice Take the file into the caller's catalogue (its provider only): the next slot
    /// now holds its commitment, once an update applies this change.
    function accept(uint256 fileId) external {
        File storage f = _file(fileId);
        if (msg.sender != f.provider) revert NotProvider(fileId, msg.sender);
        if (f.status != FileStatus.Requested) revert WrongStatus(fileId, f.status);
        Queue storage q = queues[msg.sender];
        if (q.nextSlot == SLOTS) revert CatalogueFull(msg.sender);
        uint64 slot = q.nextSlot++;
        f.status = FileStatus.Accepted;
        f.slot = slot;
        f.addIndex = _enqueue(msg.sender, q, slot, f.commitment);
    }

    /// @notice Take the file out of its provider's catalogue (its client only): its slot is
    /// emptied once an update applies this change.
    function remove(uint256 fileId) external {
        File storage f = _file(fileId);
        if (msg.sender != f.client) revert NotClient(fileId, msg.sender);
        if (f.status != FileStatus.Accepted) revert WrongStatus(fileId, f.status);
        f.status = FileStatus.Removed;
        f.removeIndex = _enqueue(f.provider, queues[f.provider], f.slot, 0);
    }

    /// Whether the file is in its provider's catalogue as last updated (accepted and applied,
    /// its removal not applied). It is proven from the epoch after that update.
    function inCatalogue(uint256 fileId) external view returns (bool) {
        File storage f = files[fileId];
        uint64 applied = queues[f.provider].applied;
        return f.addIndex != 0 && f.addIndex <= applied && (f.removeIndex == 0 || applied < f.removeIndex);
    }

    // -- catalogue updates ------------------------------------------------------------------

    /// @notice Apply `provider`'s queued changes up to index `upTo` (anyone may submit), with
    /// the proof of `catalogue.prove_update`: public inputs `[K, queueHead[applied], newK,
    /// queueHead[upTo]]`. The new catalogue is in force from the next epoch. Reverts on an
    /// invalid proof (nothing to record: the update is the same whoever submits it).
    function updateCatalogue(address provider, uint64 upTo, uint256 newCatalogue, bytes calldata proof) external {
        Queue storage q = queues[provider];
        uint64 applied = q.applied;
        if (upTo <= applied || upTo > q.queued || upTo - applied > OPS) {
            revert BadUpdateRange(provider, applied, q.queued, upTo);
        }
        uint256[] memory inputs = new uint256[](4);
        inputs[0] = latestCatalogue(provider);
        inputs[1] = queueHead[provider][applied];
        inputs[2] = newCatalogue;
        inputs[3] = queueHead[provider][upTo];
        if (gasleft() < MIN_VERIFY_GAS) revert InsufficientGas(gasleft(), MIN_VERIFY_GAS);
        if (!updateVerifier.verifyProof(proof, inputs)) revert InvalidUpdateProof(provider, upTo);
        q.applied = upTo;
        uint64 from = currentEpoch() + 1;
        Catalogue[] storage h = _catalogues[provider];
        if (h.length != 0 && h[h.length - 1].fromEpoch == from) {
            h[h.length - 1].commitment = newCatalogue;
        } else {
            h.push(Catalogue({fromEpoch: from, commitment: newCatalogue}));
        }
        emit CatalogueUpdated(provider, upTo, newCatalogue, from);
    }

    /// The catalogue after the last update (in force from the next epoch at the latest).
    function latestCatalogue(address provider) public view returns (uint256) {
        Catalogue[] storage h = _catalogues[provider];
        return h.length == 0 ? EMPTY_CATALOGUE : h[h.length - 1].commitment;
    }

    /// The catalogue `provider`'s proof for `epoch` is checked against: the last one in force
    /// from an epoch at or before `epoch` (binary search over the update history).
    function catalogueAt(address provider, uint64 epoch) public view returns (uint256) {
        Catalogue[] storage h = _catalogues[provider];
        uint256 lo = 0;
        uint256 hi = h.length; // answer: the last index < hi with fromEpoch <= epoch
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (h[mid].fromEpoch <= epoch) lo = mid + 1;
            else hi = mid;
        }
        return lo == 0 ? EMPTY_CATALOGUE : h[lo - 1].commitment;
    }

    /// Whether `provider` must prove `epoch`: its catalogue then was not empty.
    function isDue(address provider, uint64 epoch) public view returns (bool) {
        return catalogueAt(provider, epoch) != EMPTY_CATALOGUE;
    }

    // -- epochs -----------------------------------------------------------------------------

    function currentEpoch() public view returns (uint64) {
        return uint64((block.number - genesisBlock) / epochLength);
    }

    function epochStart(uint64 epoch) public view returns (uint256) {
        return uint256(genesisBlock) + uint256(epoch) * epochLength;
    }

    function proofDeadline(uint64 epoch) public view returns (uint256) {
        return epochStart(epoch) + proofWindow - 1;
    }

    /// @notice Fix the current epoch's randomness (anyone; idempotent within the epoch).
    function beginEpoch() external returns (uint64 epoch, uint256 randomness) {
        epoch = currentEpoch();
        randomness = _beginEpoch(epoch);
    }

    /// `keccak256(abi.encode(randomness, chainid, registry, epoch, provider)) mod R`.
    function seed(address provider, uint64 epoch) public view returns (uint256) {
        if (randomnessBlock[epoch] == 0) revert RandomnessNotFixed(epoch);
        return _seed(provider, epoch, epochRandomness[epoch]);
    }

    /// @notice Prove the current epoch for the caller's catalogue (`epoch.prove` of its
    /// catalogue in force at the epoch's start, for `seed(caller, epoch)`). Invalid proofs are
    /// recorded without reverting (retries allowed within the window).
    function submitEpochProof(bytes calldata proof) external returns (bool accepted) {
        uint64 epoch = currentEpoch();
        uint256 k = catalogueAt(msg.sender, epoch);
        if (k == EMPTY_CATALOGUE) revert NotDue(msg.sender, epoch);
        uint256 deadline = proofDeadline(epoch);
        if (block.number > deadline) revert TooLate(epoch, deadline);
        EpochStatus st = _status[msg.sender][epoch];
        if (st != EpochStatus.Open) revert AlreadyRecorded(msg.sender, epoch, st);
        uint256 s = _seed(msg.sender, epoch, _beginEpoch(epoch));
        uint256[] memory inputs = new uint256[](3);
        inputs[0] = k;
        inputs[1] = s;
        inputs[2] = uint256(uint160(msg.sender));
        if (gasleft() < MIN_VERIFY_GAS) revert InsufficientGas(gasleft(), MIN_VERIFY_GAS);
        accepted = epochVerifier.verifyProof(proof, inputs);
        if (accepted) {
            _status[msg.sender][epoch] = EpochStatus.Proven;
            provenEpochs[msg.sender] += 1;
            emit ProofAccepted(msg.sender, epoch, k, s);
        } else {
            invalidProofs[msg.sender] += 1;
            emit ProofRejected(msg.sender, epoch, k, s);
        }
    }

    /// @notice After `epoch`'s deadline, record a due epoch without an accepted proof (anyone,
    /// once): missed if its randomness was fixed or available by the deadline, else excused.
    function recordMissed(address provider, uint64 epoch) external {
        if (!isDue(provider, epoch)) revert NotDue(provider, epoch);
        uint256 deadline = proofDeadline(epoch);
        if (block.number <= deadline) revert TooEarly(epoch, deadline);
        EpochStatus st = _status[provider][epoch];
        if (st != EpochStatus.Open) revert AlreadyRecorded(provider, epoch, st);
        uint64 fixedAt = randomnessBlock[epoch];
        if (fixedAt == 0 || fixedAt > deadline) {
            uint256 since = randomnessSource.availableSince(epoch);
            if (since == 0 || since > deadline) {
                _status[provider][epoch] = EpochStatus.Excused;
                excusedEpochs[provider] += 1;
                emit ProofExcused(provider, epoch);
                return;
            }
        }
        _status[provider][epoch] = EpochStatus.Missed;
        missedEpochs[provider] += 1;
        emit ProofMissed(provider, epoch);
    }

    function status(address provider, uint64 epoch) external view returns (EpochStatus) {
        return _status[provider][epoch];
    }

    // -- internals --------------------------------------------------------------------------

    function _file(uint256 fileId) internal view returns (File storage f) {
        f = files[fileId];
        if (f.status == FileStatus.None) revert UnknownFile(fileId);
    }

    function _enqueue(address provider, Queue storage q, uint64 slot, uint256 value) internal returns (uint64 index) {
        uint256 head = PoseidonT3.hash(queueHead[provider][q.queued], PoseidonT3.hash(slot, value));
        index = ++q.queued;
        queueHead[provider][index] = head;
        emit ChangeQueued(provider, index, slot, value, head);
    }

    function _beginEpoch(uint64 epoch) internal returns (uint256 randomness) {
        if (randomnessBlock[epoch] != 0) return epochRandomness[epoch];
        bool available;
        (available, randomness) = randomnessSource.randomness(epoch);
        if (!available) revert RandomnessUnavailable(epoch);
        epochRandomness[epoch] = randomness;
        randomnessBlock[epoch] = uint64(block.number);
        emit EpochBegun(epoch, randomness);
    }

    function _seed(address provider, uint64 epoch, uint256 randomness) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(randomness, block.chainid, address(this), epoch, provider))) % R;
    }
}
