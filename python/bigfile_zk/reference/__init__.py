"""Pure-Python reference implementations.

Each module mirrors one module of the Rust core (``rust/core/src``) and follows the specs in
``docs/spec/``. They favour clarity over speed and are written independently of the Rust code
(e.g. Poseidon's constants are regenerated here from the Grain LFSR), so that the fast paths
can be cross-checked against them.
"""
