//! `templates/manifest.yaml` (issue 22, "template plumbing as data"): every entry names
//! templates that exist, every template is claimed by an entry, and the plan follows the
//! manifest (roots, shared templates, rules) rather than path rules of its own.

use codex_system_design::pipeline;
use codex_system_design::plan::{Manifest, manifest};
use codex_system_design::render::{TemplateSet, TemplatesError};

mod support;
use support::project::Project;

const FILE: &str = "templates/manifest.yaml";

fn embedded_text() -> String {
    let set = TemplateSet::embedded();
    let (_, text) = set
        .sources
        .iter()
        .find(|(n, _)| n == manifest::NAME)
        .expect("the manifest is in the template set");
    text.clone()
}

fn problems_with(manifest_text: &str, extra: &[(&str, &str)]) -> Vec<String> {
    let mut set = TemplateSet::embedded();
    for (n, t) in extra {
        set.sources.push(((*n).to_owned(), (*t).to_owned()));
    }
    set.manifest = Manifest::parse(manifest_text, FILE).expect("parses");
    set.check_manifest()
}

#[test]
fn the_embedded_manifest_fits_the_templates() {
    let set = TemplateSet::embedded();
    let problems = set.check_manifest();
    assert!(problems.is_empty(), "{FILE}:\n  {}", problems.join("\n  "));
}

#[test]
fn an_entry_naming_a_missing_template_fails_with_its_name() {
    let text = embedded_text().replace(
        "      routes.py: routes.py\n",
        "      routes.py: routes.py\n      nowhere.py: nowhere.py\n",
    );
    let problems = problems_with(&text, &[]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`common/_service/nowhere.py` is not a template")),
        "{problems:?}"
    );
    let text = embedded_text().replace("  - path: deploy/k8s\n", "  - path: deploy/k9s\n");
    let problems = problems_with(&text, &[]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("rule `deploy/k9s` names no template")),
        "{problems:?}"
    );
    let text = embedded_text().replace("  - serverless/_dynamodb\n", "  - serverless/_dynamo\n");
    let problems = problems_with(&text, &[]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("partial folder `serverless/_dynamo` has no templates")),
        "{problems:?}"
    );
}

#[test]
fn a_template_no_entry_claims_fails_with_its_name() {
    let problems = problems_with(&embedded_text(), &[("stray/notes.txt", "hello\n")]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`stray/notes.txt` is claimed by no entry")),
        "{problems:?}"
    );
    // A partial nothing includes or renders is not claimed either.
    let problems = problems_with(&embedded_text(), &[("common/_service/unused.py", "x\n")]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`common/_service/unused.py` is in a partial folder")),
        "{problems:?}"
    );
    // A shared entry's template is claimed by it: without the entry, it is not.
    let text = embedded_text().replace("      main.py: app/main.py\n", "");
    let problems = problems_with(&text, &[]);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("`common/_service/main.py` is in a partial folder")),
        "{problems:?}"
    );
}

#[test]
fn an_unknown_condition_or_collection_is_a_load_error_naming_the_manifest() {
    for (from, to) in [
        ("when: [mesh]", "when: [meshh]"),
        ("{ each: topic }", "{ each: topics }"),
        (
            "  - folder: monolith\n",
            "  - folder: monolith\n    colour: red\n",
        ),
    ] {
        let text = embedded_text().replace(from, to);
        let err = Manifest::parse(&text, FILE).expect_err(to).to_string();
        assert!(err.starts_with(FILE), "{err}");
    }
    let text = embedded_text().replace("__topic__: { each: topic }", "topic: { each: topic }");
    let err = Manifest::parse(&text, FILE).unwrap_err().to_string();
    assert!(
        err.contains("`topic` is not of the form `__name__`"),
        "{err}"
    );
}

/// A user's folder is checked with the manifest it brings (or ours).
#[test]
fn a_user_folder_that_breaks_the_manifest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("extra")).unwrap();
    std::fs::write(dir.path().join("extra/x.txt"), "x\n").unwrap();
    match TemplateSet::with_overrides(Some(dir.path())) {
        Err(TemplatesError::Manifest(e)) => {
            let text = e.to_string();
            assert!(
                text.contains("`extra/x.txt` is claimed by no entry"),
                "{text}"
            );
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("an unclaimed template was accepted"),
    }
    std::fs::write(dir.path().join(manifest::NAME), "roots: [\n").unwrap();
    assert!(matches!(
        TemplateSet::with_overrides(Some(dir.path())),
        Err(TemplatesError::Manifest(_))
    ));
}

fn planned(example: &str, arch: &str, set: &TemplateSet) -> Vec<(String, String)> {
    let src = pipeline::Source {
        text: Project::example(example).arch(arch).blueprint().to_owned(),
        file: "blueprint.yaml".into(),
    };
    let (bp, _) = pipeline::load(&src, false).unwrap();
    let model = pipeline::model(&bp).unwrap();
    set.plan(&model)
        .into_iter()
        .map(|f| (f.path, f.template))
        .collect()
}

fn template_of<'a>(files: &'a [(String, String)], path: &str) -> Option<&'a str> {
    files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, t)| t.as_str())
}

#[test]
fn shared_templates_are_rendered_where_the_manifest_says() {
    let set = TemplateSet::embedded();
    let micro = planned("ecommerce", "microservices", &set);
    assert_eq!(
        template_of(&micro, "services/orders/app/main.py"),
        Some("common/_service/main.py")
    );
    let mono = planned("ecommerce", "monolith", &set);
    let app = mono
        .iter()
        .find(|(p, _)| p.ends_with("/app/modules/orders/routes.py"))
        .expect("the monolith has a module per service");
    assert_eq!(app.1, "common/_service/routes.py");
    // No template outside `shared` is rendered from a partial folder.
    for files in [&micro, &mono] {
        for (path, template) in files.iter() {
            assert!(
                !set.manifest.is_partial(template) || template.starts_with("common/_service/"),
                "{path} from {template}"
            );
        }
    }
}

#[test]
fn a_rule_of_the_manifest_drops_files_and_removing_it_keeps_them() {
    let set = TemplateSet::embedded();
    // Serverless has no Kubernetes: the `deploy/k8s` rule's types say so.
    let files = planned("ecommerce", "serverless", &set);
    assert!(!files.iter().any(|(p, _)| p.starts_with("deploy/k8s/")));
    let mut loose = TemplateSet::embedded();
    let text = embedded_text().replace(
        "  - path: deploy/k8s\n    types: [microservices, monolith]\n",
        "",
    );
    loose
        .overlay(vec![(manifest::NAME.to_owned(), text)])
        .unwrap();
    let files = planned("ecommerce", "serverless", &loose);
    assert!(files.iter().any(|(p, _)| p.starts_with("deploy/k8s/")));
}

#[test]
fn a_type_root_replaces_the_common_file_of_the_same_path() {
    let mut set = TemplateSet::embedded();
    set.overlay(vec![(
        "monolith/README.md".to_owned(),
        "{{ header }}\nmonolith\n".to_owned(),
    )])
    .unwrap();
    let mono = planned("ecommerce", "monolith", &set);
    assert_eq!(template_of(&mono, "README.md"), Some("monolith/README.md"));
    let micro = planned("ecommerce", "microservices", &set);
    assert_eq!(template_of(&micro, "README.md"), Some("common/README.md"));
}
