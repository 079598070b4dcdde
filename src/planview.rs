//! `plan` output: the build phases of the resolved model (foundation → data → services by
//! dependency depth → gateway and infrastructure) and the files a generation would write, as a
//! readable tree or as JSON. Pure: model and plan in, text out.

use crate::plan::PlannedFile;
use crate::resolve::Model;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[derive(Debug, Serialize)]
pub struct PlanView<'a> {
    pub system: &'a str,
    pub arch: &'a str,
    pub scale: &'a str,
    pub phases: Vec<PhaseView<'a>>,
    pub files: &'a [PlannedFile],
}

#[derive(Debug, Serialize)]
pub struct PhaseView<'a> {
    pub number: usize,
    pub name: &'a str,
    pub description: &'a str,
    pub items: Vec<ItemView<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ItemView<'a> {
    pub name: &'a str,
    /// Services this item calls (all of them in earlier phases); empty for infrastructure.
    pub depends_on: Vec<&'a str>,
}

pub fn view<'a>(m: &'a Model, files: &'a [PlannedFile]) -> PlanView<'a> {
    let deps: BTreeMap<&str, Vec<&str>> = m
        .services
        .iter()
        .map(|s| {
            (
                s.name.raw.as_str(),
                s.depends_on.iter().map(|d| d.name.raw.as_str()).collect(),
            )
        })
        .collect();
    PlanView {
        system: &m.name.raw,
        arch: m.arch,
        scale: m.scale,
        phases: m
            .phases
            .iter()
            .map(|p| PhaseView {
                number: p.number,
                name: &p.name,
                description: &p.description,
                items: p
                    .items
                    .iter()
                    .map(|i| ItemView {
                        name: i,
                        depends_on: deps.get(i.as_str()).cloned().unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
        files,
    }
}

pub fn json(m: &Model, files: &[PlannedFile]) -> String {
    serde_json::to_string_pretty(&view(m, files)).unwrap_or_default()
}

/// The plan as a tree: phases with their items, then the files grouped by layer.
pub fn human(m: &Model, files: &[PlannedFile]) -> String {
    let v = view(m, files);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Build plan for {} ({}, scale {}): {} phases\n",
        v.system,
        v.arch,
        v.scale,
        v.phases.len()
    );
    for p in &v.phases {
        let _ = writeln!(out, "Phase {}  {} — {}", p.number, p.name, p.description);
        for (i, item) in p.items.iter().enumerate() {
            let branch = if i + 1 == p.items.len() {
                "└─"
            } else {
                "├─"
            };
            let _ = write!(out, "  {branch} {}", item.name);
            if !item.depends_on.is_empty() {
                let _ = write!(out, "  (after {})", item.depends_on.join(", "));
            }
            out.push('\n');
        }
    }
    let mut layers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in files {
        layers.entry(&f.layer).or_default().push(&f.path);
    }
    let _ = writeln!(out, "\nFiles ({} in {} layers):", files.len(), layers.len());
    for (layer, paths) in &layers {
        let _ = writeln!(out, "  {layer} ({})", paths.len());
        for (i, p) in paths.iter().enumerate() {
            let branch = if i + 1 == paths.len() {
                "└─"
            } else {
                "├─"
            };
            let _ = writeln!(out, "    {branch} {p}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::resolve;

    fn model(src: &str) -> Model {
        let loaded = crate::blueprint::load(src, "test.yaml");
        assert!(
            !loaded.diagnostics.has_errors(),
            "{:?}",
            loaded.diagnostics.items
        );
        resolve(&loaded.blueprint.unwrap(), crate::assets::presets()).unwrap()
    }

    /// Every service's phase, by name.
    fn phase_of(m: &Model) -> BTreeMap<String, usize> {
        m.phases
            .iter()
            .flat_map(|p| p.items.iter().map(move |i| (i.clone(), p.number)))
            .collect()
    }

    fn assert_phases_respect_dependencies(m: &Model) {
        let phase = phase_of(m);
        for s in &m.services {
            let mine = phase[&s.name.raw];
            for d in &s.depends_on {
                let theirs = phase[&d.name.raw];
                assert!(
                    theirs < mine,
                    "{} (phase {mine}) depends on {} (phase {theirs})",
                    s.name.raw,
                    d.name.raw
                );
            }
        }
        // Services of one phase are independent of each other.
        for p in &m.phases {
            for a in &p.items {
                if let Some(s) = m.services.iter().find(|s| &s.name.raw == a) {
                    for b in &p.items {
                        assert!(
                            !s.depends_on.iter().any(|d| &d.name.raw == b),
                            "{a} and {b} share phase {} but {a} depends on {b}",
                            p.number
                        );
                    }
                }
            }
        }
    }

    const CHAIN: &str = "version: 1
name: chain
type: microservices
services:
  gateway:
    kind: gateway
    routes:
      - { path: /api/a, to: a }
  a: { language: python, depends_on: [b, c] }
  b: { language: python, depends_on: [d] }
  c: { language: python, depends_on: [d] }
  d: { language: python }
  e: { language: python }
";

    #[test]
    fn services_of_one_phase_are_independent_and_follow_their_dependencies() {
        let m = model(CHAIN);
        assert_phases_respect_dependencies(&m);
        let phase = phase_of(&m);
        assert_eq!(phase["d"], phase["e"], "leaves share the core phase");
        assert_eq!(phase["b"], phase["c"], "siblings share a phase");
        assert!(phase["a"] > phase["b"]);
        assert_eq!(m.phases.first().unwrap().name, "foundation");
        assert_eq!(m.phases.last().unwrap().items[0], "gateway");
        for (_, example) in crate::assets::examples() {
            assert_phases_respect_dependencies(&model(example));
        }
    }

    #[test]
    fn human_plan_shows_phases_as_a_tree_with_dependencies() {
        let m = model(CHAIN);
        let text = human(&m, &[]);
        assert!(text.starts_with("Build plan for chain (microservices, scale medium)"));
        assert!(text.contains("Phase 1  foundation"), "{text}");
        assert!(text.contains("└─ a  (after b, c)"), "{text}");
        assert!(text.contains("Files (0 in 0 layers)"), "{text}");
    }

    #[test]
    fn json_plan_lists_items_with_their_dependencies() {
        let m = model(CHAIN);
        let v: serde_json::Value = serde_json::from_str(&json(&m, &[])).unwrap();
        assert_eq!(v["system"], "chain");
        let items: Vec<&serde_json::Value> = v["phases"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["items"].as_array().unwrap())
            .collect();
        let a = items.iter().find(|i| i["name"] == "a").unwrap();
        assert_eq!(a["depends_on"], serde_json::json!(["b", "c"]));
    }
}
