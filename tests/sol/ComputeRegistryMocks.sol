// SPDX-License-Identifier: MIT OR Apache-2.0
// TEST ONLY: tokens, callers and a verifier stand-in for tests/test_compute_registry.py.
// Never deploy any of them for value.
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice An ERC-20 anybody can mint.
contract TestToken is ERC20 {
    constructor() ERC20("Test", "TST") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @notice Acts as an account (`execute` forwards any call, with value) and, once armed, makes
/// one call back from inside a hook (a transfer, a receive), recording how it ended.
abstract contract Reentrant {
    address internal _target;
    bytes internal _payload;
    bool public armed;
    bool public reentered;
    bool public reentryOk;
    bytes public reentryData;

    function arm(address target, bytes calldata payload) external {
        _target = target;
        _payload = payload;
        armed = true;
    }

    function execute(address target, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    function _reenter() internal {
        if (!armed) return;
        armed = false;
        reentered = true;
        (reentryOk, reentryData) = _target.call(_payload);
    }
}

/// @notice A client or provider whose `receive` re-enters (native payouts).
contract ReentrantReceiver is Reentrant {
    receive() external payable {
        _reenter();
    }
}

/// @notice An ERC-20 that re-enters from inside its transfers when armed, and can burn a fee
/// from every transfer between two accounts (a fee-on-transfer token).
contract HostileToken is ERC20, Reentrant {
    uint256 public fee;

    constructor() ERC20("Hostile", "HST") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setFee(uint256 fee_) external {
        fee = fee_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (fee != 0 && from != address(0) && to != address(0)) {
            super._update(from, address(0), fee);
            value -= fee;
        }
        super._update(from, to, value);
        _reenter();
    }
}

/// @notice Stands in for a generated verifier: fixed getters and a fixed answer.
contract MockVerifier {
    bytes32 public immutable VK_DIGEST;
    uint256 public immutable NUM_PUBLIC_INPUTS;
    bool public immutable INSECURE_TEST_SRS;
    bool public immutable answer;

    constructor(bytes32 digest, uint256 numPublic, bool insecure, bool answer_) {
        VK_DIGEST = digest;
        NUM_PUBLIC_INPUTS = numPublic;
        INSECURE_TEST_SRS = insecure;
        answer = answer_;
    }

    function verifyProof(bytes calldata, uint256[] calldata) external view returns (bool) {
        return answer;
    }
}
