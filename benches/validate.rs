//! Validation time against blueprint size: `cargo bench --bench validate`. Prints, for 100, 1 000
//! and 10 000 services, the median of several runs of each stage (YAML parse, schema read,
//! cross-reference checks) and of the whole `blueprint::load`, and the time per service, which
//! stays flat when validation is linear in size. No criterion: a plain loop keeps the
//! dependency tree small, and the figures are for a report, not for regression statistics.

#[path = "../tests/support/big.rs"]
mod big;

use codex_system_design::blueprint::{self, SourceMap, node, schema, validate};
use codex_system_design::diagnostic::Diagnostics;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "services", "bytes", "parse", "schema", "checks", "load", "load/service"
    );
    for n in [100usize, 1_000, 10_000] {
        let text = big::blueprint(n);
        let runs = if n >= 10_000 { 3 } else { 9 };
        let root = node::parse(&text).expect("valid YAML");
        let parse = time(runs, || {
            node::parse(&text).unwrap();
        });
        let schema_t = time(runs, || {
            let mut s = SourceMap::default();
            let mut d = Diagnostics::default();
            schema::read(&root, &mut s, &mut d);
        });
        let mut s = SourceMap::default();
        let mut d = Diagnostics::default();
        let bp = schema::read(&root, &mut s, &mut d).unwrap();
        let checks = time(runs, || {
            let mut d = Diagnostics::default();
            validate::check(&bp, &s, &mut d);
        });
        let load = time(runs, || {
            let l = blueprint::load(&text, "big.yaml");
            assert!(!l.diagnostics.blocks(true));
        });
        println!(
            "{n:>8} {:>10} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?} {:>12.2?}",
            text.len(),
            parse,
            schema_t,
            checks,
            load,
            load / n as u32
        );
    }
}
