//! The stages strung together: blueprint text → rendered files. Pure up to `write`.

use crate::blueprint::{self, Loaded};
use crate::diagnostic::Diagnostics;
use crate::error::Error;
use crate::plan::{self, PlannedFile};
use crate::progress::{Stage, Tracker};
use crate::render::{ModelFor, Renderer, TemplateSet};
use crate::resolve::{self, Model, Overview};
use crate::slices::{Index, Reads};

/// Where the blueprint text came from, for messages.
pub struct Source {
    pub text: String,
    pub file: String,
}

pub use crate::render::Generated;

/// Parse and validate; errors (or warnings with `deny_warnings`) stop here.
pub fn load(
    src: &Source,
    deny_warnings: bool,
) -> Result<(blueprint::Blueprint, Diagnostics), Error> {
    let Loaded {
        blueprint,
        diagnostics,
        ..
    } = blueprint::load(&src.text, &src.file);
    let blocked = diagnostics.blocks(deny_warnings);
    match blueprint {
        Some(bp) if !blocked => Ok((bp, diagnostics)),
        _ => Err(Error::invalid(diagnostics, &src.text)),
    }
}

pub fn model(bp: &blueprint::Blueprint) -> Result<Model, Error> {
    resolve::resolve(bp, crate::assets::presets()).map_err(Error::Resolve)
}

pub fn generate(
    src: &Source,
    templates: &TemplateSet,
    deny_warnings: bool,
) -> Result<Generated, Error> {
    generate_tracked(src, templates, deny_warnings, &mut Tracker::silent())
}

/// [`generate`], reporting each stage to `tracker` (timings for `--verbose`, the progress
/// indicator).
pub fn generate_tracked(
    src: &Source,
    templates: &TemplateSet,
    deny_warnings: bool,
    tracker: &mut Tracker,
) -> Result<Generated, Error> {
    generate_reusing(src, templates, deny_warnings, tracker, None, true)
}

/// What the rendered tree depends on: the resolved model (every template reads only it, the
/// file's path and its header), the template sources and the tool version. Output is
/// deterministic, so equal fingerprints mean an identical render.
pub fn fingerprint(model: &Model, templates: &TemplateSet) -> String {
    Index::new(model, &templates.sources).fingerprint()
}

/// [`generate_tracked`] that, given `previous` (an output folder and its state), renders only
/// what changed: nothing when the tree was generated from the same inputs and is untouched
/// since, else only the files whose key (what they read of the model, see [`crate::slices`])
/// differs from the recorded one or whose file on disk is not as recorded. `full` renders
/// everything (the result is the same; the property test in `tests/incremental.rs` holds it so).
pub fn generate_reusing(
    src: &Source,
    templates: &TemplateSet,
    deny_warnings: bool,
    tracker: &mut Tracker,
    previous: Option<(&std::path::Path, &crate::write::State)>,
    full: bool,
) -> Result<Generated, Error> {
    let mut g = generate_deferred(src, templates, deny_warnings, tracker, previous, full)?;
    g.render_deferred()?;
    Ok(g)
}

/// [`generate_reusing`] that, when there is no previous tree to compare with, leaves the
/// render to the writer (`Generated::deferred`): a fresh tree is then rendered and written in
/// chunks, so its text is never held whole (issue 23).
pub fn generate_deferred(
    src: &Source,
    templates: &TemplateSet,
    deny_warnings: bool,
    tracker: &mut Tracker,
    previous: Option<(&std::path::Path, &crate::write::State)>,
    full: bool,
) -> Result<Generated, Error> {
    tracker.stage(Stage::Parse, "validating the blueprint");
    let (bp, diagnostics) = load(src, deny_warnings)?;
    let source = crate::slices::source_digest(&src.text, &templates.sources);
    let previous = previous.filter(|_| !full);
    // The same blueprint, build and templates: the same model, so the recorded fingerprint
    // holds without serializing the model to work it out, and the recorded overview stands in
    // for the model in the summary: an untouched tree is reported without resolving the
    // blueprint (issue 23: a no-op costs the state read and a stat per file).
    let same = previous.filter(|(_, state)| same_source(state, &source));
    let mut checked = false;
    if let Some((out, state)) = same
        && let Some(overview) = &state.overview
    {
        tracker.stage(Stage::Compare, "checking the tree");
        if crate::write::state::tree_intact(out, state) {
            return Ok(reused(
                state,
                &source,
                None,
                Vec::new(),
                overview.clone(),
                diagnostics,
            ));
        }
        checked = true;
    }
    tracker.stage(Stage::Resolve, "resolving the model");
    let model = model(&bp)?;
    tracker.stage(Stage::Plan, "planning the files");
    let plan = templates.plan(&model);
    let mut index = Index::new(&model, &templates.sources);
    let inputs = index.fingerprint();
    // The tree was not checked above (another blueprint text whose model is the same, or a
    // state from before overviews were recorded): the same inputs and an intact tree are a
    // no-op too.
    if let Some((out, state)) = previous
        && !checked
        && !state.inputs.is_empty()
        && state.inputs == inputs
    {
        tracker.stage(Stage::Compare, "checking the tree");
        if crate::write::state::tree_intact(out, state) {
            let overview = model.overview();
            return Ok(reused(
                state,
                &source,
                Some(model),
                plan,
                overview,
                diagnostics,
            ));
        }
    }
    let reads = index.reads_all(&plan);
    let mut keys: Vec<String> = plan
        .iter()
        .zip(&reads)
        .map(|(f, r)| index.key(f, r))
        .collect();
    let trusted = match previous {
        Some((out, state)) => trusted_files(out, state, &plan, &keys, &index),
        None => {
            tracker.stage(Stage::Render, &format!("rendering {} files", plan.len()));
            let renderer = Renderer::new(templates)?;
            return Ok(Generated {
                overview: model.overview(),
                model: Some(model),
                schema: None,
                plan,
                files: Vec::new(),
                keys,
                trusted: Vec::new(),
                diagnostics,
                inputs,
                source,
                reused: false,
                deferred: Some(crate::render::Deferred {
                    renderer,
                    index,
                    reads,
                }),
            });
        }
    };
    let todo: Vec<(&PlannedFile, &Reads)> = plan
        .iter()
        .zip(&reads)
        .zip(&trusted)
        .filter(|(_, t)| !**t)
        .map(|(pair, _)| pair)
        .collect();
    tracker.stage(Stage::Render, &format!("rendering {} files", todo.len()));
    // Of the model, the writer needs only the schema and the summary the overview: the render
    // starts from the whole model's template values when it needs many of them, and the model
    // and its serialized text are dropped first (issue 23: 80 MB of a one-service change's
    // peak at 1 000 services).
    let schema = crate::migrate::Schema::from_model(&model);
    let overview = model.overview();
    // The model goes here: dropped list by list as it is converted, or at once.
    let whole = crate::render::whole_values(ModelFor::Done(Box::new(model)), &mut index, &todo);
    let rendered = if todo.is_empty() {
        Vec::new()
    } else {
        Renderer::new(templates)?.render_reads(&index, whole, &todo)?
    };
    let mut files = Vec::with_capacity(rendered.len());
    let redo = plan
        .iter()
        .zip(&trusted)
        .enumerate()
        .filter(|(_, (_, t))| !**t);
    for ((i, (f, _)), (path, text, whole)) in redo.zip(rendered) {
        // It read more than its slices: its text depends on the whole model.
        if whole {
            keys[i] = index.key(f, &Reads::All);
        }
        files.push((path, text));
    }
    Ok(Generated {
        overview,
        model: None,
        schema: Some(schema),
        plan,
        files,
        keys,
        trusted,
        diagnostics,
        inputs,
        source,
        reused: false,
        deferred: None,
    })
}

/// Whether `state` was generated from `source` (blueprint, build and templates) and records
/// its fingerprint: the model would be the same.
fn same_source(state: &crate::write::State, source: &str) -> bool {
    !state.inputs.is_empty() && !state.source.is_empty() && state.source == source
}

/// The generation of a tree found untouched since the last one from the same inputs: nothing
/// rendered, every file unchanged.
fn reused(
    state: &crate::write::State,
    source: &str,
    model: Option<Model>,
    plan: Vec<PlannedFile>,
    overview: Overview,
    diagnostics: Diagnostics,
) -> Generated {
    Generated {
        model,
        schema: None,
        overview,
        plan,
        files: Vec::new(),
        keys: Vec::new(),
        trusted: Vec::new(),
        diagnostics,
        inputs: state.inputs.clone(),
        source: source.to_owned(),
        reused: true,
        deferred: None,
    }
}

/// Per planned file, whether its last render is still exact and on disk as recorded: a
/// merge-policy file whose recorded key is its key now (or the key of a render from the whole
/// model, when that is what it had) and whose stat stamp holds; a write-once file with a
/// record, whose content regeneration never reads.
fn trusted_files(
    out: &std::path::Path,
    state: &crate::write::State,
    plan: &[PlannedFile],
    keys: &[String],
    index: &Index,
) -> Vec<bool> {
    use crate::write::state::{stat_clean, state_time};
    let since = state_time(out);
    let items: Vec<(&PlannedFile, &String)> = plan.iter().zip(keys).collect();
    crate::parallel::batches(&items, 256, |batch, _: &mut ()| {
        batch
            .iter()
            .map(|(f, key)| {
                let Some(rec) = state.files.get(&f.path) else {
                    return false;
                };
                match f.policy {
                    plan::Policy::WriteOnce => true,
                    plan::Policy::Merge => {
                        !rec.key.is_empty()
                            && (rec.key == **key || rec.key == index.key(f, &Reads::All))
                            && stat_clean(out, &f.path, rec, since)
                    }
                }
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect()
}
