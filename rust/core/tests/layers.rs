//! The core's modules form layers: each imports only modules of lower layers (docs/architecture.md).
//! This reads the sources, so a new upward import (an import cycle in the making) fails here.

use std::collections::BTreeMap;
use std::path::Path;

/// Top-level modules by layer: a module may import only modules of a strictly lower layer.
const LAYERS: &[(&str, u32)] = &[
    ("error", 0),
    ("field", 1),
    ("field_simd", 1),
    ("fft", 2),
    ("files", 1),
    ("progress", 1),
    ("encoding", 2),
    ("poseidon", 2),
    ("domain", 3),
    ("merkle", 3),
    ("msm", 4),
    ("commitment", 4),
    ("srs", 5),
    ("kzg", 6),
    ("plonk", 7),
];

/// Inside `plonk`, the same rule by sub-module.
const PLONK_LAYERS: &[(&str, u32)] = &[
    ("gates", 0),
    ("column", 0),
    ("transcript", 0),
    ("relation", 1),
    ("circuit", 1),
    ("builder", 2),
    ("keys", 2),
    ("proof", 3),
    // Spec version 3 (packed commitments): its proof, linearisation and verifier.
    ("packed", 4),
    ("prover", 5),
    ("verifier", 5),
    ("solidity", 5),
    // Reads and checks cached proving keys; times its checks with the prover's trace.
    ("key_cache", 6),
];

fn rank(table: &[(&str, u32)], name: &str) -> Option<u32> {
    table.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

/// Identifiers following `prefix` in `text` (`crate::kzg::open` → `kzg`).
fn imported(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            text[i + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

fn sources(dir: &Path, out: &mut BTreeMap<String, String>, root: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out, root);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn modules_import_only_lower_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    sources(&root, &mut files, &root);
    let mut violations = Vec::new();
    for (file, text) in &files {
        let top = file.split(['/', '.']).next().unwrap();
        if top == "lib" {
            continue;
        }
        let mine = rank(LAYERS, top).unwrap_or_else(|| panic!("{file}: add `{top}` to LAYERS"));
        for dep in imported(text, "crate::") {
            if dep == top {
                continue;
            }
            match rank(LAYERS, &dep) {
                Some(r) if r < mine => {}
                _ => violations.push(format!("{file} imports crate::{dep}")),
            }
        }
        if top == "plonk" && file != "plonk/mod.rs" {
            let sub = file.trim_start_matches("plonk/").trim_end_matches(".rs");
            let mine = rank(PLONK_LAYERS, sub)
                .unwrap_or_else(|| panic!("{file}: add `{sub}` to PLONK_LAYERS"));
            // `super::x` is a sibling module here; in a file's own `mod tests` it names the
            // file's items (`super::*`, functions), which are not modules and are skipped.
            for dep in imported(text, "super::") {
                match rank(PLONK_LAYERS, &dep) {
                    Some(r) if r >= mine && dep != sub => {
                        violations.push(format!("{file} imports super::{dep}"))
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "upward imports:\n{}",
        violations.join("\n")
    );
    // The check itself must see imports (a test that cannot fail is no test).
    assert!(imported(&files["kzg.rs"], "crate::").contains(&"srs".to_string()));
}
