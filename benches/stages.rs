//! In-process stage timings on the synthetic blueprint (`tests/support/synth.rs`) at 10, 50, 200
//! and 1 000 services: `cargo bench --bench stages`. Each group reports time per run and, through
//! the element throughput, time per service, which stays flat while a stage is linear in size.
//! Whole-process figures (fresh generation, regeneration, peak RSS, `cp -r`) come from
//! `bench/run.py`. The `check` group times `check` over a generated tree written to a temporary
//! folder (issue 19: under a second at 1 000 services).

#[path = "../tests/support/synth.rs"]
mod synth;

use codex_system_design::blueprint::{self, SourceMap, node, schema, validate};
use codex_system_design::check;
use codex_system_design::diagnostic::Diagnostics;
use codex_system_design::pipeline;
use codex_system_design::render::{Renderer, TemplateSet};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

/// The blueprint sizes, in services. `cargo test --all-targets` runs each benchmark once as a
/// smoke test (in a debug build); there the smallest size is enough.
fn sizes() -> &'static [usize] {
    if std::env::args().any(|a| a == "--bench") {
        &[10, 50, 200, 1_000]
    } else {
        &[10]
    }
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(20);
    g
}

fn read_and_check(c: &mut Criterion) {
    for stage in ["parse", "schema", "checks", "validate"] {
        let mut g = group(c, stage);
        for &n in sizes() {
            let text = synth::blueprint(n);
            let root = node::parse(&text).expect("valid YAML");
            let mut sources = SourceMap::default();
            let bp = schema::read(&root, &mut sources, &mut Diagnostics::default()).unwrap();
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| match stage {
                "parse" => b.iter(|| node::parse(black_box(&text)).unwrap()),
                "schema" => b.iter(|| {
                    let mut s = SourceMap::default();
                    schema::read(&root, &mut s, &mut Diagnostics::default())
                }),
                "checks" => b.iter(|| {
                    let mut d = Diagnostics::default();
                    validate::check(&bp, &sources, &mut d);
                    d
                }),
                _ => b.iter(|| blueprint::load(black_box(&text), "synthetic.yaml")),
            });
        }
        g.finish();
    }
}

fn resolve_plan_render(c: &mut Criterion) {
    let templates = TemplateSet::embedded();
    let renderer = Renderer::new(&templates).expect("built-in templates compile");
    for stage in ["resolve", "plan", "render"] {
        let mut g = group(c, stage);
        for &n in sizes() {
            let text = synth::blueprint(n);
            let bp = blueprint::load(&text, "synthetic.yaml").blueprint.unwrap();
            let model = pipeline::model(&bp).ok().unwrap();
            let files = templates.plan(&model);
            g.throughput(Throughput::Elements(n as u64));
            if stage == "render" && n >= 1_000 {
                g.sample_size(10);
            }
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| match stage {
                "resolve" => b.iter(|| pipeline::model(black_box(&bp)).ok().unwrap()),
                "plan" => b.iter(|| templates.plan(&model)),
                _ => b.iter(|| renderer.render_all(&model, &files).unwrap()),
            });
        }
        g.finish();
    }
}

/// A generated tree of `n` services on disk, with a state file so that `check` treats it as a
/// generated project (the parity rules run, as on a real tree).
fn generated_tree(n: usize, templates: &TemplateSet, renderer: &Renderer) -> tempfile::TempDir {
    let text = synth::blueprint(n);
    let bp = blueprint::load(&text, "synthetic.yaml").blueprint.unwrap();
    let model = pipeline::model(&bp).ok().unwrap();
    let files = templates.plan(&model);
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (path, content) in renderer.render_all(&model, &files).unwrap() {
        let target = dir.path().join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, content).unwrap();
    }
    let state = dir.path().join(".codex-system-design");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("state.json"), "{}").unwrap();
    dir
}

fn check_tree(c: &mut Criterion) {
    let templates = TemplateSet::embedded();
    let renderer = Renderer::new(&templates).expect("built-in templates compile");
    for (stage, sub) in [("check", ""), ("check deploy", "deploy")] {
        let mut g = group(c, stage);
        for &n in sizes() {
            let tree = generated_tree(n, &templates, &renderer);
            let root = tree.path().join(sub);
            g.throughput(Throughput::Elements(n as u64));
            if n >= 200 {
                g.sample_size(10);
            }
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| {
                    let report = check::check(&root, check::Options::default()).unwrap();
                    assert!(report.findings.is_empty(), "{}", check::render(&report));
                    report
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, read_and_check, resolve_plan_render, check_tree);
criterion_main!(benches);
