// SPDX-License-Identifier: MIT OR Apache-2.0
// TEST ONLY: a randomness beacon anybody can write. Never deploy it as a real beacon.
pragma solidity 0.8.28;

import {IRandomnessBeacon} from "StorageRegistry.sol";

/// @notice Stands in for a drand relay or VRF coordinator in tests: `publish` stores any value
/// for any round, and may overwrite one (to model a misbehaving relay), recording the block.
contract MockBeacon is IRandomnessBeacon {
    struct Round {
        uint256 value;
        uint256 publishedAt;
    }

    mapping(uint256 round => Round) internal _rounds;

    event Published(uint256 indexed round, uint256 value);

    function publish(uint256 round, uint256 value) external {
        _rounds[round] = Round(value, block.number);
        emit Published(round, value);
    }

    function roundRandomness(uint256 round)
        external
        view
        returns (uint256 value, uint256 publishedAt)
    {
        Round storage r = _rounds[round];
        return (r.value, r.publishedAt);
    }
}
