//! In-process generation for tests: a blueprint (a built-in example, a fixture or any text),
//! changed the way the command line changes it (`--type`, `--scale`, `--name`), generated into
//! a temporary folder by the same stages the binary runs (parse, validate, resolve, plan,
//! render, write with its state), then edited and regenerated like a user's tree.
//!
//! ```ignore
//! let tree = Project::example("ecommerce").arch("monolith").scale("small").generate();
//! tree.edit_blueprint(|t| t.replace("a", "b"));
//! tree.regenerate();
//! ```

use codex_system_design::blueprint::edit::set_top_level;
use codex_system_design::error::{Error, Outcome};
use codex_system_design::pipeline::{self, Source};
use codex_system_design::render::TemplateSet;
use codex_system_design::report::{self, Mode, Reporter};
use codex_system_design::{assets, write};
use std::fs;
use std::path::{Path, PathBuf};

/// A blueprint to generate.
#[derive(Clone)]
pub struct Project {
    text: String,
}

impl Project {
    /// A built-in example as it ships.
    pub fn example(name: &str) -> Self {
        let text = assets::example(name).unwrap_or_else(|| panic!("no example `{name}`"));
        Project::text(text)
    }

    /// A blueprint under `tests/fixtures/` (`valid/constraints.yaml`).
    pub fn fixture(rel: &str) -> Self {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel);
        Project::text(fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}")))
    }

    pub fn text(text: impl Into<String>) -> Self {
        Project { text: text.into() }
    }

    /// `--type`.
    pub fn arch(self, arch: &str) -> Self {
        self.set("type", arch)
    }

    /// `--scale`.
    pub fn scale(self, scale: &str) -> Self {
        self.set("scale", scale)
    }

    /// `--name`.
    pub fn name(self, name: &str) -> Self {
        self.set("name", name)
    }

    /// A top-level key of the blueprint, set as the command line sets it.
    pub fn set(mut self, key: &str, value: &str) -> Self {
        self.text = set_top_level(&self.text, key, value);
        self
    }

    /// Any change to the blueprint text.
    pub fn edit(mut self, f: impl FnOnce(String) -> String) -> Self {
        self.text = f(self.text);
        self
    }

    pub fn blueprint(&self) -> &str {
        &self.text
    }

    /// The tree, written with `blueprint.yaml` into a new temporary folder; panics with the
    /// error's text when the blueprint does not generate.
    pub fn generate(&self) -> Tree {
        self.try_generate()
            .unwrap_or_else(|e| panic!("the blueprint does not generate: {e}"))
    }

    pub fn try_generate(&self) -> Result<Tree, Error> {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("out");
        self.try_generate_into(&root)?;
        Ok(Tree { _tmp: tmp, root })
    }

    /// The tree written into `out` (new, or a tree generated before).
    pub fn generate_into(&self, out: &Path) {
        self.try_generate_into(out)
            .unwrap_or_else(|e| panic!("the blueprint does not generate: {e}"));
    }

    fn try_generate_into(&self, out: &Path) -> Result<(), Error> {
        match write_tree(out, &self.text)? {
            Outcome::Done => Ok(()),
            o => panic!("generating into {} ended with {o:?}", out.display()),
        }
    }
}

/// A generated tree in a temporary folder (removed when dropped).
pub struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    /// The tree's folder.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// A generated file's text; panics naming the file when it is missing.
    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// Changes a file of the tree, as a user edits it; the edit must change something.
    pub fn edit(&self, rel: &str, f: impl FnOnce(String) -> String) {
        let text = self.read(rel);
        let new = f(text.clone());
        assert_ne!(text, new, "the edit of {rel} changed nothing");
        fs::write(self.root.join(rel), new).unwrap();
    }

    pub fn edit_blueprint(&self, f: impl FnOnce(String) -> String) {
        self.edit("blueprint.yaml", f);
    }

    /// `generate` in the tree: its `blueprint.yaml` again, merged with the user's edits.
    pub fn regenerate(&self) -> Outcome {
        self.try_regenerate()
            .unwrap_or_else(|e| panic!("the tree does not regenerate: {e}"))
    }

    pub fn try_regenerate(&self) -> Result<Outcome, Error> {
        write_tree(&self.root, &self.read("blueprint.yaml"))
    }
}

/// The stages the binary runs, quietly: render `text`, then write it and `blueprint.yaml` into
/// `out` over the tree's last state.
fn write_tree(out: &Path, text: &str) -> Result<Outcome, Error> {
    let src = Source {
        text: text.to_owned(),
        file: "blueprint.yaml".to_owned(),
    };
    let mut generated = pipeline::generate(&src, &TemplateSet::embedded(), false)?;
    let state = write::read_state(out)?;
    write::atomic_write(&out.join("blueprint.yaml"), text)?;
    let mut quiet = Reporter::new(true, false, false);
    report::finish_write(
        out,
        &mut generated,
        state.as_ref(),
        &mut quiet,
        Mode::default(),
    )
}
