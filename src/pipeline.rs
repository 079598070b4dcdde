//! The stages strung together: blueprint text → rendered files. Pure up to `write`.

use crate::blueprint::{self, Loaded};
use crate::diagnostic::Diagnostics;
use crate::error::Error;
use crate::plan;
use crate::progress::{Stage, Tracker};
use crate::render::{Renderer, TemplateSet};
use crate::resolve::{self, Model};

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
    generate_reusing(src, templates, deny_warnings, tracker, None)
}

/// What the rendered tree depends on: the resolved model (every template reads only it, the
/// file's path and its header), the template sources and the tool version. Output is
/// deterministic, so equal fingerprints mean an identical render.
pub fn fingerprint(model: &Model, templates: &TemplateSet) -> String {
    let mut h = blake3::Hasher::new();
    h.update(crate::resolve::TOOL_VERSION.as_bytes());
    h.update(&crate::write::STATE_FORMAT.to_le_bytes());
    // Buffered: serde writes many tiny pieces, and each hasher update has a fixed cost.
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut h);
    serde_json::to_writer(&mut w, model).expect("the model serializes");
    drop(w);
    for (name, source) in &templates.sources {
        for part in [name.as_bytes(), source.as_bytes()] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    h.finalize().to_hex()[..32].to_owned()
}

/// [`generate_tracked`] that skips rendering when `previous` (an output folder and its state)
/// was generated from the same inputs and is untouched since: then nothing would change, and
/// a no-op regeneration costs a read of the tree instead of a render.
pub fn generate_reusing(
    src: &Source,
    templates: &TemplateSet,
    deny_warnings: bool,
    tracker: &mut Tracker,
    previous: Option<(&std::path::Path, &crate::write::State)>,
) -> Result<Generated, Error> {
    tracker.stage(Stage::Parse, "validating the blueprint");
    let (bp, diagnostics) = load(src, deny_warnings)?;
    tracker.stage(Stage::Resolve, "resolving the model");
    let model = model(&bp)?;
    tracker.stage(Stage::Plan, "planning the files");
    let plan = plan::plan(&model, templates.names());
    let inputs = fingerprint(&model, templates);
    if let Some((out, state)) = previous
        && !state.inputs.is_empty()
        && state.inputs == inputs
    {
        tracker.stage(Stage::Compare, "checking the tree");
        if crate::write::state::tree_intact(out, state) {
            return Ok(Generated {
                model,
                plan,
                files: Vec::new(),
                diagnostics,
                inputs,
                reused: true,
            });
        }
    }
    tracker.stage(Stage::Render, &format!("rendering {} files", plan.len()));
    let renderer = Renderer::new(templates)?;
    let files = renderer.render_all(&model, &plan)?;
    Ok(Generated {
        model,
        plan,
        files,
        diagnostics,
        inputs,
        reused: false,
    })
}
