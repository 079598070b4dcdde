//! Incremental regeneration (issue 23): each file is rendered from only the part of the model
//! it reads (`slices`), so its text is a function of its key. These tests pin that the part is
//! enough — the same bytes as a render from the whole model — for every shipped template.

mod support;

use codex_system_design::blueprint::edit::set_top_level;
use codex_system_design::pipeline::{self, Source};
use codex_system_design::render::{Renderer, TemplateSet};
use codex_system_design::slices::{Index, Reads};
use codex_system_design::{assets, plan};
use support::synth;

fn model_of(text: &str) -> codex_system_design::resolve::Model {
    let src = Source {
        text: text.to_owned(),
        file: "blueprint.yaml".into(),
    };
    let (bp, _) = pipeline::load(&src, false).expect("valid");
    pipeline::model(&bp).expect("resolves")
}

/// Render every planned file both ways; the texts must be equal and no file may need the
/// whole model after all (that would mean the analysis missed a read: still correct, but
/// every change would re-render the file).
fn same_both_ways(label: &str, text: &str) -> usize {
    let templates = TemplateSet::embedded();
    let model = model_of(text);
    let plan = plan::plan(&model, templates.names());
    let index = Index::new(&model, &templates);
    let reads = index.reads_all(&plan);
    let renderer = Renderer::new(&templates).unwrap();
    let whole = renderer.render_all(&model, &plan).unwrap();
    let pairs: Vec<(&plan::PlannedFile, &Reads)> = plan.iter().zip(&reads).collect();
    let cut = renderer.render_reads(&model, &pairs).unwrap();
    let mut narrowed = 0;
    for ((path, want), ((p2, got, fell_back), r)) in whole.iter().zip(cut.iter().zip(&reads)) {
        assert_eq!(path, p2);
        assert!(
            !fell_back,
            "{label}: {path} read more of the model than its template names"
        );
        assert!(
            got == want,
            "{label}: {path} differs when rendered from what it reads"
        );
        if *r != Reads::All {
            narrowed += 1;
        }
    }
    narrowed
}

#[test]
fn every_example_and_type_renders_the_same_from_the_slices_each_file_reads() {
    for (name, text) in assets::examples() {
        for arch in ["microservices", "monolith", "serverless"] {
            let text = set_top_level(text, "type", arch);
            let narrowed = same_both_ways(&format!("{name}/{arch}"), &text);
            assert!(
                narrowed > 0,
                "{name}/{arch}: every file reads the whole model"
            );
        }
    }
}

#[test]
fn the_synthetic_blueprint_renders_the_same_from_slices() {
    for arch in ["microservices", "monolith", "serverless"] {
        same_both_ways(arch, &synth::blueprint_for(12, arch));
    }
}
