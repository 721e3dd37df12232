//! A storage provider's catalogue and the circuit that updates it
//! (`docs/spec/storage-catalogue.md`).
//!
//! The catalogue is a binary Poseidon Merkle tree of fixed depth [`DEPTH`] whose leaf at slot
//! `i` is the commitment of the file held there (`0`: an empty slot); its commitment is
//! `K = Poseidon(root, count)` with `count` the slots in use (`[0, count)`).
//!
//! The registry never hashes the tree itself (a Poseidon hash costs ≈ 28k gas in Solidity, a
//! path 16 of them). It appends each change `(slot, value)` to the provider's queue digest
//! `h' = Poseidon(h, Poseidon(slot, value))` and accepts a new `K` with a proof of this
//! circuit. Public inputs, in this order: `K_old`, `h_old`, `K_new`, `h_new`. The circuit
//! replays up to [`OPS`] queued changes on the tree behind `K_old` (each one's old leaf and
//! path checked against the current root, the new root recomputed along the same path) and
//! shows that the result is `K_new` and that the changes are the queue's from `h_old` to
//! `h_new`. `K_new` is a function of `K_old` and the changes, so who submits the proof does not
//! matter (it has no prover input).

use ark_bn254::Fr;
use ark_ff::{One, Zero};
use bigfile_zk::error::{Error, Result};
use bigfile_zk::plonk::{self, Builder, Circuit, Proof, ProvingKey, Var, VerifyingKey};
use bigfile_zk::poseidon;

/// Tree depth: `2^16 = 65,536` slots per provider.
pub const DEPTH: usize = 16;
/// Slots per catalogue.
pub const SLOTS: u64 = 1 << DEPTH;
/// Queued changes one update proof applies (fewer are padded with inactive ones).
pub const OPS: usize = 24;

/// `Poseidon(slot, value)`: one queued change as the registry hashes it.
pub fn op_digest(slot: u64, value: Fr) -> Fr {
    poseidon::hash2(Fr::from(slot), value)
}

/// The queue digest after `op`: `Poseidon(h, Poseidon(slot, value))`.
pub fn queue_next(h: Fr, slot: u64, value: Fr) -> Fr {
    poseidon::hash2(h, op_digest(slot, value))
}

/// A catalogue: the tree (all `2^DEPTH` leaves, empty slots `0`) and the slots in use.
#[derive(Clone, Debug)]
pub struct Catalogue {
    /// `levels[0]` = the leaves, `levels[DEPTH]` = `[root]`.
    levels: Vec<Vec<Fr>>,
    count: u64,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self::new()
    }
}

impl Catalogue {
    /// The empty catalogue (`count = 0`).
    pub fn new() -> Self {
        let mut levels = Vec::with_capacity(DEPTH + 1);
        let mut z = Fr::zero();
        for l in 0..=DEPTH {
            levels.push(vec![z; 1 << (DEPTH - l)]);
            z = poseidon::hash2(z, z);
        }
        Self { levels, count: 0 }
    }

    /// The catalogue whose slots `0..values.len()` hold `values` (`0`: an emptied slot),
    /// hashed level by level (`2^16` hashes at most) rather than path by path.
    pub fn from_values(values: &[Fr]) -> Result<Self> {
        if values.len() as u64 > SLOTS {
            return Err(Error::InvalidParameter(format!(
                "{} slots: a catalogue has at most {SLOTS}",
                values.len()
            )));
        }
        let mut cat = Self::new();
        cat.levels[0][..values.len()].copy_from_slice(values);
        let mut used = values.len();
        for l in 0..DEPTH {
            used = used.div_ceil(2);
            for i in 0..used {
                let (a, b) = (cat.levels[l][2 * i], cat.levels[l][2 * i + 1]);
                cat.levels[l + 1][i] = poseidon::hash2(a, b);
            }
        }
        cat.count = values.len() as u64;
        Ok(cat)
    }

    /// The values of slots `0..count`.
    pub fn values(&self) -> &[Fr] {
        &self.levels[0][..self.count as usize]
    }

    /// The tree root.
    pub fn root(&self) -> Fr {
        self.levels[DEPTH][0]
    }

    /// Slots in use.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// `K = Poseidon(root, count)`.
    pub fn commitment(&self) -> Fr {
        poseidon::hash2(self.root(), Fr::from(self.count))
    }

    /// The value at `slot` (`0` when empty).
    pub fn leaf(&self, slot: u64) -> Result<Fr> {
        self.check_slot(slot, SLOTS)?;
        Ok(self.levels[0][slot as usize])
    }

    /// The `DEPTH` siblings of `slot`'s path, leaf level first.
    pub fn siblings(&self, slot: u64) -> Result<Vec<Fr>> {
        self.check_slot(slot, SLOTS)?;
        Ok((0..DEPTH)
            .map(|l| self.levels[l][((slot >> l) ^ 1) as usize])
            .collect())
    }

    /// Set `slot` to `value`: an existing slot (`slot < count`) or the next one
    /// (`slot = count`, which grows `count`), as [`update`]'s circuit allows.
    pub fn set(&mut self, slot: u64, value: Fr) -> Result<()> {
        self.check_slot(slot, self.count + 1)?;
        let mut i = slot as usize;
        self.levels[0][i] = value;
        for l in 0..DEPTH {
            let (a, b) = (self.levels[l][i & !1], self.levels[l][i | 1]);
            i >>= 1;
            self.levels[l + 1][i] = poseidon::hash2(a, b);
        }
        if slot == self.count {
            self.count += 1;
        }
        Ok(())
    }

    fn check_slot(&self, slot: u64, bound: u64) -> Result<()> {
        if slot >= bound.min(SLOTS) {
            return Err(Error::InvalidParameter(format!(
                "catalogue slot {slot} is outside [0, {}) (count {}, {SLOTS} slots)",
                bound.min(SLOTS),
                self.count
            )));
        }
        Ok(())
    }
}

/// The public statement of an update, in the verifier's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Statement {
    /// The catalogue commitment before.
    pub old: Fr,
    /// The queue digest the old catalogue includes.
    pub old_head: Fr,
    /// The catalogue commitment after.
    pub new: Fr,
    /// The queue digest after the applied changes.
    pub new_head: Fr,
}

impl Statement {
    /// `[K_old, h_old, K_new, h_new]`.
    pub fn public_inputs(&self) -> [Fr; 4] {
        [self.old, self.old_head, self.new, self.new_head]
    }
}

/// One applied change and what the prover shows about it.
#[derive(Clone, Debug)]
pub struct Change {
    pub slot: u64,
    pub value: Fr,
    /// The slot's value before the change.
    pub old_leaf: Fr,
    /// The slot's path before the change (the same after: only the slot's leaf changes).
    pub siblings: Vec<Fr>,
}

/// The private witness: the tree before, and the changes in queue order.
#[derive(Clone, Debug)]
pub struct Witness {
    pub old_root: Fr,
    pub old_count: u64,
    pub changes: Vec<Change>,
}

/// Apply `changes` (`(slot, value)` in queue order, at most [`OPS`]) to `catalogue`: the
/// statement, the witness, and the catalogue after. Errors name a change the circuit could
/// not prove (a slot beyond `count`).
pub fn apply(
    catalogue: &Catalogue,
    old_head: Fr,
    changes: &[(u64, Fr)],
) -> Result<(Statement, Witness, Catalogue)> {
    if changes.len() > OPS {
        return Err(Error::InvalidParameter(format!(
            "{} changes: one update applies at most {OPS}",
            changes.len()
        )));
    }
    let mut after = catalogue.clone();
    let mut head = old_head;
    let mut applied = Vec::with_capacity(changes.len());
    for (j, &(slot, value)) in changes.iter().enumerate() {
        let change = Change {
            slot,
            value,
            old_leaf: after.leaf(slot).map_err(|e| at_change(j, e))?,
            siblings: after.siblings(slot)?,
        };
        after.set(slot, value).map_err(|e| at_change(j, e))?;
        head = queue_next(head, slot, value);
        applied.push(change);
    }
    let statement = Statement {
        old: catalogue.commitment(),
        old_head,
        new: after.commitment(),
        new_head: head,
    };
    let witness = Witness {
        old_root: catalogue.root(),
        old_count: catalogue.count(),
        changes: applied,
    };
    Ok((statement, witness, after))
}

fn at_change(j: usize, e: Error) -> Error {
    Error::InvalidParameter(format!("change {j}: {e}"))
}

/// Lay out the update circuit; `witness = None` lays out its shape (setup).
pub fn build(b: &mut Builder, statement: &Statement, witness: Option<&Witness>) -> Result<()> {
    let placeholder;
    let w = match witness {
        Some(w) => w,
        None => {
            placeholder = Witness {
                old_root: Fr::zero(),
                old_count: 0,
                changes: vec![],
            };
            &placeholder
        }
    };
    if w.changes.len() > OPS {
        return Err(Error::InvalidParameter(format!(
            "{} changes: one update applies at most {OPS}",
            w.changes.len()
        )));
    }
    if let Some(j) = w.changes.iter().position(|c| c.siblings.len() != DEPTH) {
        return Err(Error::InvalidParameter(format!(
            "change {j}: a path has {DEPTH} siblings, not {}",
            w.changes[j].siblings.len()
        )));
    }
    b.set_range_checks_by_lookup(false);
    let k_old = b.public_input(statement.old);
    let h_old = b.public_input(statement.old_head);
    let k_new = b.public_input(statement.new);
    let h_new = b.public_input(statement.new_head);

    b.push_label("old catalogue");
    let mut root = b.input(w.old_root);
    let mut count = b.input(Fr::from(w.old_count));
    b.range_check(count, DEPTH + 1)?; // count ≤ 2^16 < 2^17
    let k = b.poseidon(&[root, count])?;
    b.assert_equal(k, k_old);
    b.pop_label();

    let mut head = h_old;
    for j in 0..OPS {
        b.push_label(&format!("change {j}"));
        let c = w.changes.get(j);
        // Inactive changes (padding) carry slot 0, value 0 and zero siblings: every check
        // below is multiplied by `active`, and the state is carried over unchanged.
        let active = b.input(Fr::from(c.is_some() as u64));
        b.assert_bool(active);
        let slot = b.input(Fr::from(c.map_or(0, |c| c.slot)));
        let value = b.input(c.map_or(Fr::zero(), |c| c.value));
        let old_leaf = b.input(c.map_or(Fr::zero(), |c| c.old_leaf));
        let sibs: Vec<Var> = (0..DEPTH)
            .map(|l| b.input(c.map_or(Fr::zero(), |c| c.siblings[l])))
            .collect();

        // slot < 2^16 (its bits are the path) and slot ≤ count.
        let bits = b.to_bits(slot, DEPTH)?;
        let room = b.lin2(count, Fr::one(), slot, -Fr::one(), Fr::zero());
        b.range_check(room, DEPTH + 1)?;
        // The old leaf hashes up to the current root; the new one gives the next root.
        let (mut old_node, mut new_node) = (old_leaf, value);
        for (l, bit) in bits.iter().enumerate() {
            b.push_label(&format!("level {l}"));
            old_node = b.merkle_level(old_node, *bit, sibs[l]);
            new_node = b.merkle_level(new_node, *bit, sibs[l]);
            b.pop_label();
        }
        let diff = b.sub(old_node, root);
        let gated = b.mul(diff, active);
        b.assert_zero(gated);
        root = b.select(active, new_node, root);
        // count grows by one exactly when an active change writes slot = count.
        let at_end = b.is_equal(slot, count);
        let grows = b.mul(at_end, active);
        count = b.add(count, grows);
        // The queue digest.
        let op = b.poseidon(&[slot, value])?;
        let next = b.poseidon(&[head, op])?;
        head = b.select(active, next, head);
        b.pop_label();
    }

    b.push_label("new catalogue");
    let k = b.poseidon(&[root, count])?;
    b.assert_equal(k, k_new);
    b.assert_equal(head, h_new);
    b.pop_label();
    Ok(())
}

/// The update circuit's shape.
pub fn circuit() -> Result<Circuit> {
    let mut b = Builder::new();
    let placeholder = Statement {
        old: Fr::zero(),
        old_head: Fr::zero(),
        new: Fr::zero(),
        new_head: Fr::zero(),
    };
    build(&mut b, &placeholder, None)?;
    Ok(b.build()?.0)
}

/// The update circuit's keys for `srs` (deterministic: the circuit's shape only).
pub fn setup(srs: &bigfile_zk::srs::Srs) -> Result<(ProvingKey, VerifyingKey)> {
    plonk::setup(&circuit()?, srs)
}

/// The update circuit's proving key from a cache file ([`ProvingKey::save_cache`]), checked
/// against the circuit and `srs` before it is returned.
pub fn load_key(path: &std::path::Path, srs: &bigfile_zk::srs::Srs) -> Result<ProvingKey> {
    ProvingKey::load_cache(path, &circuit()?, srs)
}

/// Whether `pk` is the update circuit's proving key for `srs` (e.g. one read from a cache);
/// an error says what differs.
pub fn check_key(pk: &ProvingKey, srs: &bigfile_zk::srs::Srs) -> Result<()> {
    if let Some(diff) = pk.circuit.difference(&circuit()?) {
        return Err(Error::InvalidParameter(format!(
            "this proving key is not the catalogue update circuit ({diff})"
        )));
    }
    pk.check_srs(srs)
}

/// Prove an update built by [`apply`] (`blinding`: [`plonk::random_blinding`]).
pub fn prove(
    pk: &ProvingKey,
    statement: &Statement,
    witness: &Witness,
    blinding: &[Fr],
    progress: bigfile_zk::progress::Progress<'_>,
) -> Result<Proof> {
    let mut b = Builder::new();
    build(&mut b, statement, Some(witness))?;
    let (circuit, w) = b.build()?;
    if let Some(diff) = pk.circuit.difference(&circuit) {
        return Err(Error::InvalidParameter(format!(
            "this proving key is not the catalogue update circuit ({diff})"
        )));
    }
    plonk::prove_with_progress(pk, &w, blinding, progress)
}
