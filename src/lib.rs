//! codex-system-design: an architecture blueprint → a complete, validated system tree.
//!
//! Pipeline: [`blueprint`] (parse with positions, schema, cross-reference validation) →
//! [`resolve`] (one model with every default, name and wiring) → [`plan`] (the files to write) →
//! [`render`] (Tera, pure) → [`write`] (atomic writes, state). [`pipeline`] strings the stages
//! together for the CLI in [`cli`].

pub mod assets;
pub mod blueprint;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod extras;
pub mod migrate;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod planview;
pub mod progress;
pub mod render;
pub mod resolve;
pub mod wizard;
pub mod write;
