//! The stages strung together: blueprint text → rendered files. Pure up to `write`.

use crate::blueprint::{self, Loaded};
use crate::diagnostic::{Diagnostics, human};
use crate::plan::{self, PlannedFile};
use crate::progress::{Stage, Tracker};
use crate::render::{Renderer, TemplateSet};
use crate::resolve::{self, Model};

/// Where the blueprint text came from, for messages.
pub struct Source {
    pub text: String,
    pub file: String,
}

pub enum Failure {
    /// The blueprint has errors (exit 1).
    Invalid(Diagnostics),
    /// Something else went wrong (exit 2).
    Other(String),
}

pub struct Generated {
    pub model: Model,
    pub plan: Vec<PlannedFile>,
    pub files: Vec<(String, String)>,
    pub diagnostics: Diagnostics,
}

/// Parse and validate; errors (or warnings with `deny_warnings`) stop here.
pub fn load(
    src: &Source,
    deny_warnings: bool,
) -> Result<(blueprint::Blueprint, Diagnostics), Failure> {
    let Loaded {
        blueprint,
        diagnostics,
        ..
    } = blueprint::load(&src.text, &src.file);
    let blocked = diagnostics.blocks(deny_warnings);
    match blueprint {
        Some(bp) if !blocked => Ok((bp, diagnostics)),
        _ => Err(Failure::Invalid(diagnostics)),
    }
}

pub fn model(bp: &blueprint::Blueprint) -> Result<Model, Failure> {
    resolve::resolve(bp, crate::assets::presets()).map_err(Failure::Other)
}

pub fn generate(
    src: &Source,
    templates: &TemplateSet,
    deny_warnings: bool,
) -> Result<Generated, Failure> {
    generate_tracked(src, templates, deny_warnings, &mut Tracker::silent())
}

/// [`generate`], reporting each stage to `tracker` (timings for `--verbose`, the progress
/// indicator).
pub fn generate_tracked(
    src: &Source,
    templates: &TemplateSet,
    deny_warnings: bool,
    tracker: &mut Tracker,
) -> Result<Generated, Failure> {
    tracker.stage(Stage::Parse, "validating the blueprint");
    let (bp, diagnostics) = load(src, deny_warnings)?;
    tracker.stage(Stage::Resolve, "resolving the model");
    let model = model(&bp)?;
    tracker.stage(Stage::Plan, "planning the files");
    let plan = plan::plan(&model, templates.names());
    tracker.stage(Stage::Render, &format!("rendering {} files", plan.len()));
    let renderer = Renderer::new(templates).map_err(|e| Failure::Other(e.to_string()))?;
    let files = renderer
        .render_all(&model, &plan)
        .map_err(|e| Failure::Other(e.to_string()))?;
    Ok(Generated {
        model,
        plan,
        files,
        diagnostics,
    })
}

/// Human text for a set of diagnostics, with a closing count line; coloured when stderr is a
/// terminal and `NO_COLOR` is unset.
pub fn report(d: &Diagnostics, source: Option<&str>) -> String {
    human::report(d, source, human::color_for_stderr())
}
