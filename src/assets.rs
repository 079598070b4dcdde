//! Files embedded in the binary: templates and built-in blueprints (examples and scale presets).
//! `build.rs` makes cargo rebuild when a file under either folder is added, changed or removed.

use include_dir::{Dir, include_dir};

pub static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");
pub static BLUEPRINTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/blueprints");

pub const DEFAULT_EXAMPLE: &str = "ecommerce";

/// The architecture types, in the order the matrix runs them.
pub const TYPES: [&str; 3] = ["microservices", "monolith", "serverless"];

/// Examples that generate for some types only, and why; the others generate for all three.
/// `engine: dynamodb` is a serverless store: the other types refuse it (E0127); `engine: mysql`
/// is not (yet) a serverless one (E0127 too).
const RESTRICTED: [(&str, &[&str], &str); 2] = [
    (
        "serverless-notes",
        &["serverless"],
        "engine: dynamodb is serverless only (E0127)",
    ),
    (
        "polyglot-shop",
        &["microservices"],
        "a monolith is one app in one language and this example mixes Python and TypeScript (E0156); engine: mysql is not serverless (E0127)",
    ),
];

/// The types a built-in example generates for.
pub fn example_types(name: &str) -> &'static [&'static str] {
    RESTRICTED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or(&TYPES, |(_, types, _)| types)
}

/// Why an example does not generate for the types it leaves out (None: it generates for all).
pub fn example_restriction(name: &str) -> Option<&'static str> {
    RESTRICTED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, _, why)| *why)
}

pub fn presets() -> &'static str {
    BLUEPRINTS
        .get_file("presets.yaml")
        .and_then(|f| f.contents_utf8())
        .expect("blueprints/presets.yaml is embedded")
}

/// Pinned images of the generated system (`blueprints/images.yaml`).
pub fn images() -> &'static str {
    BLUEPRINTS
        .get_file("images.yaml")
        .and_then(|f| f.contents_utf8())
        .expect("blueprints/images.yaml is embedded")
}

/// The data files beside the examples in `blueprints/`: not examples themselves.
const DATA_FILES: [&str; 2] = ["presets", "images"];

/// Built-in example blueprints: (name, source), sorted by name.
pub fn examples() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<_> = BLUEPRINTS
        .files()
        .filter_map(|f| {
            let name = f.path().file_name()?.to_str()?.strip_suffix(".yaml")?;
            (!DATA_FILES.contains(&name)).then_some((name, f.contents_utf8()?))
        })
        .collect();
    out.sort_by_key(|(n, _)| *n);
    out
}

pub fn example(name: &str) -> Option<&'static str> {
    examples()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
}

/// The example's one-line description: its `description:` value.
pub fn describe(source: &str) -> &str {
    source
        .lines()
        .find_map(|l| l.strip_prefix("description:"))
        .map_or("", str::trim)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_data_files_are_not_examples() {
        let names: Vec<_> = super::examples().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "auth-service",
                "ecommerce",
                "event-orders",
                "polyglot-shop",
                "serverless-notes"
            ]
        );
    }
}
