//! Incremental regeneration (issue 23): each file is rendered from only the part of the model
//! it reads (`slices`), so its text is a function of its key. These tests pin that the part is
//! enough — the same bytes as a render from the whole model — for every shipped template.

mod support;

use codex_system_design::blueprint::edit::set_top_level;
use codex_system_design::error::Outcome;
use codex_system_design::pipeline::{self, Source};
use codex_system_design::render::{Renderer, TemplateSet};
use codex_system_design::report::{self, Mode, Reporter};
use codex_system_design::slices::{Index, Reads};
use codex_system_design::{assets, plan, write};
use proptest::prelude::*;
use std::collections::BTreeMap;
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
    let plan = templates.plan(&model);
    let mut index = Index::new(&model, &templates.sources);
    let reads = index.reads_all(&plan);
    let renderer = Renderer::new(&templates).unwrap();
    let whole = renderer.render_all(&model, &plan).unwrap();
    let pairs: Vec<(&plan::PlannedFile, &Reads)> = plan.iter().zip(&reads).collect();
    let values = codex_system_design::render::whole_values(
        codex_system_design::render::ModelFor::Kept(&model),
        &mut index,
        &pairs,
    );
    let cut = renderer.render_reads(&index, values, &pairs).unwrap();
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
        for &arch in assets::example_types(name) {
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

/// The binary's `generate` in a tree, in process: the last state, then only what changed
/// rendered (or everything with `full`), then the write under the lock. Without `full` the
/// render is left to the writer, as the binary does: a fresh tree is then written while it is
/// rendered (`write::stream`); with `full` it is rendered whole first and written by
/// `prepare` and `apply`.
fn regenerate(out: &std::path::Path, full: bool) -> Result<Outcome, String> {
    let text = std::fs::read_to_string(out.join("blueprint.yaml")).unwrap();
    let src = Source {
        text,
        file: "blueprint.yaml".into(),
    };
    let last = write::read_state(out).map_err(|e| e.to_string())?;
    let templates = TemplateSet::embedded();
    let mut quiet = Reporter::new(true, false, false);
    let generate = if full {
        pipeline::generate_reusing
    } else {
        pipeline::generate_deferred
    };
    let mut g = generate(
        &src,
        &templates,
        false,
        &mut quiet.tracker,
        last.as_ref().map(|s| (out, s)),
        full,
    )
    .map_err(|e| format!("{e:?}"))?;
    if !full && last.is_none() {
        assert!(g.deferred.is_some(), "a fresh render is left to the writer");
    }
    report::finish_write(out, &mut g, last.as_ref(), &mut quiet, Mode::default())
        .map_err(|e| format!("{e:?}"))
}

/// Everything a run leaves that regeneration depends on: the files outside the state folder,
/// the records (without stat stamps, which differ between any two runs), the schema, and the
/// merge base of every record.
fn outcome(out: &std::path::Path) -> (BTreeMap<String, Vec<u8>>, String) {
    let mut files = BTreeMap::new();
    for e in walkdir::WalkDir::new(out).sort_by_file_name() {
        let e = e.unwrap();
        let rel = e
            .path()
            .strip_prefix(out)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if e.file_type().is_file() && !rel.starts_with(write::STATE_DIR) {
            files.insert(rel, std::fs::read(e.path()).unwrap());
        }
    }
    let state = write::read_state(out).unwrap().expect("a state");
    let bases = write::state::Bases::open(out, Some(&state));
    let mut summary = String::new();
    for (path, rec) in &state.files {
        let base = bases.get(&rec.hash).map(write::hash);
        summary.push_str(&format!(
            "{path} {} {:?} {} {} base={base:?}\n",
            rec.hash, rec.policy, rec.conflicted, rec.key
        ));
    }
    summary.push_str(&serde_json::to_string(&state.schema).unwrap());
    summary.push_str(&state.inputs);
    summary.push_str(&state.source);
    summary.push_str(&format!("{:?}", state.overview));
    (files, summary)
}

/// A fresh tree written while it is rendered is the one `prepare` and `apply` write from the
/// whole render: the same files, records, stamps on every record, and the same pack of merge
/// bases byte for byte.
#[test]
fn a_fresh_tree_streamed_is_the_tree_written_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("streamed"), tmp.path().join("whole"));
    for dir in [&a, &b] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("blueprint.yaml"), synth::blueprint(12)).unwrap();
    }
    assert_eq!(regenerate(&a, false), Ok(Outcome::Done));
    assert_eq!(regenerate(&b, true), Ok(Outcome::Done));
    assert_eq!(outcome(&a), outcome(&b));
    let (sa, sb) = (
        write::read_state(&a).unwrap().unwrap(),
        write::read_state(&b).unwrap().unwrap(),
    );
    assert_eq!(sa.bases, sb.bases, "the same pack, named by its text");
    assert!(sa.files.values().all(|r| r.size > 0 && r.mtime > 0));
    assert!(!a.join(".codex-system-design/pending").exists());
    assert!(!a.join(".codex-system-design/tmp").exists());
    // The streamed state lets the next run trust every file, as the other one does.
    assert_eq!(regenerate(&a, false), Ok(Outcome::Done));
    assert_eq!(outcome(&a), outcome(&b));
}

/// The generation `generate` makes of the tree in `out` from its last state (no write).
fn generation(out: &std::path::Path, state: &write::State) -> pipeline::Generated {
    let src = Source {
        text: std::fs::read_to_string(out.join("blueprint.yaml")).unwrap(),
        file: "blueprint.yaml".into(),
    };
    let mut quiet = Reporter::new(true, false, false);
    let templates = TemplateSet::embedded();
    pipeline::generate_deferred(
        &src,
        &templates,
        false,
        &mut quiet.tracker,
        Some((out, state)),
        false,
    )
    .unwrap()
}

#[test]
fn a_no_op_from_the_same_source_reports_from_the_state_without_resolving() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path();
    let text = synth::blueprint(12);
    std::fs::write(out.join("blueprint.yaml"), &text).unwrap();
    assert_eq!(regenerate(out, false), Ok(Outcome::Done));
    let state = write::read_state(out).unwrap().unwrap();
    let want = model_of(&text).overview();
    assert_eq!(
        state.overview.as_ref(),
        Some(&want),
        "the state records the overview"
    );
    let g = generation(out, &state);
    assert!(
        g.reused,
        "an untouched tree from the same inputs is not rendered"
    );
    assert!(g.model.is_none(), "nor is its blueprint resolved");
    assert!(g.plan.is_empty());
    assert_eq!(
        g.overview, want,
        "the summary is the one a resolve would print"
    );
    // A state from before overviews were recorded: the model is resolved, the render skipped.
    let older = write::State {
        overview: None,
        ..state.clone()
    };
    let g = generation(out, &older);
    assert!(g.reused && g.model.is_some());
    assert_eq!(g.overview, want);
    // A hand edit: the tree is no longer as recorded, so the model is resolved and compared.
    let file = out.join(state.files.keys().next().unwrap());
    let mut edited = std::fs::read_to_string(&file).unwrap();
    edited.push_str("# mine\n");
    std::fs::write(&file, edited).unwrap();
    let g = generation(out, &state);
    assert!(!g.reused && g.schema.is_some());
}

#[derive(Debug, Clone)]
enum Change {
    /// A field added to the `n`th entity.
    Field(usize, u8),
    /// The description (read by docs and READMEs only).
    Describe(u8),
    Scale(&'static str),
    Arch(&'static str),
    Rename(u8),
}

#[derive(Debug, Clone)]
enum Hand {
    /// A line of the user's at the top of the `n`th file.
    Prepend(usize),
    Append(usize),
    /// The file's first line replaced (a conflict when the render changes it too).
    Replace(usize),
    Delete(usize),
}

fn apply_change(out: &std::path::Path, c: &Change) {
    let path = out.join("blueprint.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = match c {
        Change::Field(n, k) => {
            let at = format!("  Item{:03}:\n    fields:\n      id: uuid pk\n", n % 3 + 1);
            text.replacen(&at, &format!("{at}      extra{k}: text nullable\n"), 1)
        }
        Change::Describe(k) => set_top_level(&text, "description", &format!("Version {k}")),
        Change::Scale(s) => set_top_level(&text, "scale", s),
        Change::Arch(a) => set_top_level(&text, "type", a),
        Change::Rename(k) => set_top_level(&text, "name", &format!("synthetic-{k}")),
    };
    std::fs::write(&path, text).unwrap();
}

fn apply_hand(out: &std::path::Path, h: &Hand) {
    let (files, _) = outcome(out);
    let files: Vec<&String> = files.keys().filter(|k| *k != "blueprint.yaml").collect();
    let pick = |n: usize| out.join(files[n % files.len()]);
    let edit = |p: std::path::PathBuf, f: &dyn Fn(String) -> String| {
        let text = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, f(text)).unwrap();
    };
    match h {
        Hand::Prepend(n) => edit(pick(*n), &|t| format!("mine at the top\n{t}")),
        Hand::Append(n) => edit(pick(*n), &|t| format!("{t}mine at the end\n")),
        Hand::Replace(n) => edit(pick(*n), &|t| {
            let rest = t.split_once('\n').map_or("", |(_, r)| r);
            format!("my first line\n{rest}")
        }),
        Hand::Delete(n) => std::fs::remove_file(pick(*n)).unwrap(),
    }
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        4 => (0..3usize, 0..4u8).prop_map(|(n, k)| Change::Field(n, k)),
        2 => (0..4u8).prop_map(Change::Describe),
        1 => prop::sample::select(vec!["small", "medium", "large"]).prop_map(Change::Scale),
        1 => prop::sample::select(vec!["microservices", "monolith"]).prop_map(Change::Arch),
        1 => (0..2u8).prop_map(Change::Rename),
    ]
}

fn hand() -> impl Strategy<Value = Hand> {
    prop_oneof![
        (0..10_000usize).prop_map(Hand::Prepend),
        (0..10_000usize).prop_map(Hand::Append),
        (0..10_000usize).prop_map(Hand::Replace),
        (0..10_000usize).prop_map(Hand::Delete),
    ]
}

/// Cases of the property test: `INCREMENTAL_CASES` (default 16; each case is some ten
/// generations of a three-service system, twice).
fn cases() -> u32 {
    std::env::var("INCREMENTAL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// After any sequence of blueprint changes and hand edits, a regeneration that renders only
    /// what changed leaves exactly what one rendering everything (`--full`) leaves: the same
    /// bytes in every file, the same records and merge bases.
    #[test]
    fn rendering_only_what_changed_leaves_what_a_full_render_leaves(
        steps in prop::collection::vec((prop::option::of(change()), prop::collection::vec(hand(), 0..3)), 1..6)
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let inc = tmp.path().join("incremental");
        let full = tmp.path().join("full");
        for dir in [&inc, &full] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("blueprint.yaml"), synth::blueprint(3)).unwrap();
        }
        prop_assert_eq!(regenerate(&inc, false), regenerate(&full, true));
        for (c, hands) in &steps {
            for dir in [&inc, &full] {
                if let Some(c) = c {
                    apply_change(dir, c);
                }
                for h in hands {
                    apply_hand(dir, h);
                }
            }
            let a = regenerate(&inc, false);
            let b = regenerate(&full, true);
            prop_assert_eq!(&a, &b);
            let (fa, sa) = outcome(&inc);
            let (fb, sb) = outcome(&full);
            prop_assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
            for (k, v) in &fa {
                prop_assert!(fb[k] == *v, "{} differs", k);
            }
            prop_assert_eq!(sa, sb);
            // And regenerating again changes nothing either way.
            prop_assert_eq!(regenerate(&inc, false), a);
            prop_assert_eq!(outcome(&inc).0, fa);
        }
    }
}

#[test]
fn every_collection_names_a_model_field() {
    use codex_system_design::plan::Collection;
    use codex_system_design::slices::field_of;
    let model = model_of(assets::example("ecommerce").unwrap());
    let index = Index::new(&model, &TemplateSet::embedded().sources);
    for coll in [
        Collection::Service,
        Collection::Grpc,
        Collection::TypescriptService,
        Collection::FirstService,
        Collection::Deployable,
        Collection::Database,
        Collection::Env,
        Collection::Function,
        Collection::Topic,
    ] {
        assert!(index.raw_field(field_of(coll)).is_some(), "{coll:?}");
    }
}

/// A render that fails in a later chunk of a streamed fresh tree (a template error of the
/// user's `--templates`) leaves the folder as it found it: the files of the earlier chunks,
/// the pending list and the partial pack are removed.
#[test]
fn a_streamed_fresh_tree_that_fails_part_way_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let text = synth::blueprint(4);
    std::fs::write(out.join("blueprint.yaml"), &text).unwrap();
    let mut templates = TemplateSet::embedded();
    let model = model_of(&text);
    let plan = templates.plan(&model);
    let last = plan.iter().rev().find(|f| f.item.is_some()).unwrap();
    let failing = format!(
        "{{% if path == \"{}\" %}}{{{{ m.no_such_field.x }}}}{{% endif %}}ok\n",
        last.path
    );
    templates
        .overlay(vec![(last.template.clone(), failing)])
        .unwrap();
    let src = Source {
        text,
        file: "blueprint.yaml".into(),
    };
    let mut quiet = Reporter::new(true, false, false);
    let mut g =
        pipeline::generate_deferred(&src, &templates, false, &mut quiet.tracker, None, false)
            .unwrap();
    assert!(write::stream::bare(&out));
    let e = write::run::stream_fresh::<codex_system_design::error::Error>(&out, &mut g, 16)
        .err()
        .expect("fails");
    assert!(
        format!("{e}").contains(&last.path) || format!("{e:?}").contains(&last.path),
        "{e:?}"
    );
    let left: Vec<_> = walkdir::WalkDir::new(&out)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(&out)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(left, vec!["blueprint.yaml".to_owned()]);
}
