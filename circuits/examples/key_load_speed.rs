//! Cold start (issue 15): loading the storage circuit's proving key from a cache file, the
//! checksummed `ProvingKey::to_bytes` form (decode + `check_key`) against the cache encoding
//! (`load_key`: read + checks), in interleaved rounds.
//! `cargo run --release --example key_load_speed -p bigfile-circuits [-- 16 64] [--rounds 3]`
use bigfile_circuits::storage;
use bigfile_zk::plonk::ProvingKey;
use bigfile_zk::srs::Srs;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(3);
    let ks: Vec<usize> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .filter_map(|a| a.parse().ok())
        .filter(|k| [4, 16, 64].contains(k))
        .collect();
    let dir = std::env::temp_dir().join(format!("bfzk-key-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for k in if ks.is_empty() { vec![16] } else { ks } {
        let circuit = storage::circuit(k).unwrap();
        let srs = Srs::insecure_for_testing(5 * circuit.n() + 9, 0).unwrap();
        let (pk, _) = storage::setup(k, &srs).unwrap();
        let old = dir.join(format!("storage-k{k}.pk"));
        let new = dir.join(format!("storage-k{k}.pkc"));
        std::fs::write(&old, pk.to_bytes()).unwrap();
        pk.save_cache(&new).unwrap();
        let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len() as f64 / 1e6;
        println!(
            "k = {k} (2^{} rows): old file {:.1} MB, cache file {:.1} MB",
            circuit.k,
            size(&old),
            size(&new)
        );
        for round in 0..rounds {
            let t = Instant::now();
            let bytes = std::fs::read(&old).unwrap();
            let t_read = t.elapsed().as_secs_f64();
            let key = ProvingKey::from_bytes(&bytes).unwrap();
            drop(bytes);
            let t_decode = t.elapsed().as_secs_f64();
            storage::check_key(&key, k, &srs).unwrap();
            let t_old = t.elapsed().as_secs_f64();
            drop(key);
            let t = Instant::now();
            let c = storage::circuit(k).unwrap();
            let t_circuit = t.elapsed().as_secs_f64();
            let key = ProvingKey::load_cache(&new, &c, &srs).unwrap();
            let t_new = t.elapsed().as_secs_f64();
            drop(key);
            println!(
                "  round {round}: old {t_old:.3} s (read {t_read:.3}, decode {:.3}, check {:.3}) | \
                 new {t_new:.3} s (circuit {t_circuit:.3}, load + checks {:.3})",
                t_decode - t_read,
                t_old - t_decode,
                t_new - t_circuit
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
