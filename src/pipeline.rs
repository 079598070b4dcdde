//! The stages strung together: blueprint text → rendered files. Pure up to `write`.

use crate::blueprint::{self, Loaded};
use crate::diagnostic::{Diagnostics, render_human};
use crate::plan::{self, PlannedFile};
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
    let blocked = diagnostics.has_errors() || (deny_warnings && !diagnostics.items.is_empty());
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
    let (bp, diagnostics) = load(src, deny_warnings)?;
    let model = model(&bp)?;
    let plan = plan::plan(&model, templates.names());
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

/// Human text for a set of diagnostics, with a closing count line.
pub fn report(d: &Diagnostics, source: Option<&str>) -> String {
    let mut out = String::new();
    for item in &d.items {
        out.push_str(&render_human(item, source));
        out.push('\n');
    }
    let (e, w) = (d.error_count(), d.warning_count());
    if e + w > 0 {
        out.push_str(&format!("{e} error(s), {w} warning(s)\n"));
    }
    out
}
