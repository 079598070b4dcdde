//! Answers → blueprint text: commented, in the shape of the built-in examples, so the file the
//! user keeps reads like one they would write. Starting from an example keeps the example's
//! text (and comments) and changes only the top-level answers.

use super::answers::{Answers, ServiceAnswers, default_service};
use crate::blueprint::edit::set_top_level;
use indexmap::IndexMap;
use std::fmt::Write;

/// A YAML scalar that reads back as the same string: plain when that is unambiguous, else
/// double-quoted (JSON strings are valid YAML).
pub fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-.()/,".contains(c))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !s.ends_with(' ')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        s.to_owned()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn flow_list(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| scalar(s)).collect();
    format!("[{}]", parts.join(", "))
}

pub fn description(a: &Answers) -> String {
    if a.description.trim().is_empty() {
        format!("The {} system", a.name)
    } else {
        a.description.trim().to_owned()
    }
}

/// The blueprint text for these answers. `Err` only for an unknown example.
pub fn blueprint(a: &Answers) -> Result<String, String> {
    match &a.example {
        Some(ex) => from_example(a, ex),
        None => Ok(from_services(a)),
    }
}

fn from_example(a: &Answers, example: &str) -> Result<String, String> {
    let text =
        crate::assets::example(example).ok_or_else(|| format!("unknown example `{example}`"))?;
    let mut t = set_top_level(text, "name", &scalar(&a.name));
    if !a.description.trim().is_empty() {
        t = set_top_level(&t, "description", &scalar(a.description.trim()));
    }
    t = set_top_level(&t, "type", &a.arch);
    t = set_top_level(&t, "scale", &a.scale);
    if t.lines().any(|l| l.starts_with("ingress:")) {
        let host = format!("{{ host: {}.example.com, tls: true }}", a.name);
        t = set_top_level(&t, "ingress", &host);
    }
    if a.arch == "microservices" {
        let on = a.mesh.unwrap_or(true);
        t = set_top_level(&t, "mesh", &format!("{{ enabled: {on}, mtls: strict }}"));
    }
    t = set_top_level(&t, "ci", &format!("{{ provider: {} }}", a.ci));
    // The broker is the one nested answer; the examples write it as `  broker: <name>`.
    let lines: Vec<String> = t
        .lines()
        .map(|l| match l.strip_prefix("  broker:") {
            Some(_) => format!("  broker: {}", a.broker),
            None => l.to_owned(),
        })
        .collect();
    let t = lines.join("\n") + "\n";
    Ok(if a.services.is_empty() {
        t
    } else {
        add_services(&t, a)
    })
}

/// Splice the answered services (and the entities, stores and topics they bring) into the
/// example's text, each at the end of its section, keeping the example's layout and comments.
fn add_services(text: &str, a: &Answers) -> String {
    let bp = crate::blueprint::load(text, "example")
        .blueprint
        .unwrap_or_default();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut block = String::new();
    for s in &a.services {
        service(&mut block, s);
    }
    append(&mut lines, "services", &block, 0);
    let mut block = String::new();
    for e in a.services.iter().flat_map(|s| &s.entities) {
        entity(&mut block, e);
    }
    append(&mut lines, "entities", &block, 0);
    let dbs = unique(a.services.iter().filter_map(|s| s.database.as_ref()));
    let block: String = dbs
        .iter()
        .filter(|d| !bp.databases.contains_key(d.as_str()))
        .map(|d| format!("  {}: {{ engine: postgres }}\n", scalar(d)))
        .collect();
    append(&mut lines, "databases", &block, 0);
    let caches = unique(a.services.iter().filter_map(|s| s.cache.as_ref()));
    let block: String = caches
        .iter()
        .filter(|c| !bp.caches.contains_key(c.as_str()))
        .map(|c| format!("  {}: {{ engine: redis }}\n", scalar(c)))
        .collect();
    append(&mut lines, "caches", &block, 0);
    let declared = |t: &str| {
        bp.messaging
            .as_ref()
            .is_some_and(|m| m.topics.contains_key(t))
    };
    let topics = unique(
        a.services
            .iter()
            .flat_map(|s| s.publishes.iter().chain(&s.consumes)),
    );
    let block: String = topics
        .iter()
        .filter(|t| !declared(t))
        .map(|t| format!("    {}: {{}}\n", scalar(t)))
        .collect();
    if !block.is_empty() {
        if bp.messaging.is_some() {
            append(&mut lines, "topics", &block, 2);
        } else {
            let m = format!("  broker: {}\n  topics:\n{block}", a.broker);
            append(&mut lines, "messaging", &m, 0);
        }
    }
    lines.join("\n") + "\n"
}

/// Add `block` at the end of the mapping `key:` written at `indent`; a missing top-level section
/// is added before `mesh:`/`observability:`/`ci:`.
fn append(lines: &mut Vec<String>, key: &str, block: &str, indent: usize) {
    if block.is_empty() {
        return;
    }
    let head = format!("{}{key}:", " ".repeat(indent));
    let is_head = |l: &String| {
        l.strip_prefix(&head)
            .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
    };
    let new: Vec<String> = block.lines().map(str::to_owned).collect();
    let Some(start) = lines.iter().position(is_head) else {
        let at = lines
            .iter()
            .position(|l| {
                ["mesh:", "observability:", "ci:"]
                    .iter()
                    .any(|k| l.starts_with(k))
            })
            .unwrap_or(lines.len());
        let mut section = vec![head];
        section.extend(new);
        lines.splice(at..at, section);
        return;
    };
    let depth = |l: &String| l.len() - l.trim_start().len();
    let mut end = lines[start + 1..]
        .iter()
        .position(|l| !l.trim().is_empty() && depth(l) <= indent)
        .map_or(lines.len(), |i| start + 1 + i);
    while end > start + 1 && (lines[end - 1].trim().is_empty() || lines[end - 1].starts_with('#')) {
        end -= 1;
    }
    lines.splice(end..end, new);
}

fn from_services(a: &Answers) -> String {
    let defaults;
    let services: &[ServiceAnswers] = if a.services.is_empty() {
        defaults = [default_service()];
        &defaults
    } else {
        &a.services
    };
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# {}: written by `codex-system-design init`. Edit it and run `codex-system-design generate`.",
        a.name
    );
    let _ = writeln!(o, "version: 1");
    let _ = writeln!(o, "name: {}", scalar(&a.name));
    let _ = writeln!(o, "description: {}", scalar(&description(a)));
    let _ = writeln!(
        o,
        "{:<32}# microservices | serverless | monolith",
        format!("type: {}", a.arch)
    );
    let _ = writeln!(
        o,
        "{:<32}# small | medium | large (replicas, database class, targets)",
        format!("scale: {}", a.scale)
    );
    let _ = writeln!(o, "cloud: {{ provider: aws, region: eu-west-1 }}");
    let _ = writeln!(o, "environments: [dev, staging, prod]");
    if services.iter().any(|s| s.kind == "gateway") {
        let _ = writeln!(o, "ingress: {{ host: {}.example.com, tls: true }}", a.name);
    }
    o.push_str("\nservices:\n");
    for s in services {
        service(&mut o, s);
    }
    let entities: Vec<_> = services.iter().flat_map(|s| &s.entities).collect();
    if !entities.is_empty() {
        o.push_str("\n# Field types: uuid, string(N), text, int, bigint, decimal(P,S), bool, timestamp, date,\n");
        o.push_str("# json, enum(a, b), ref Entity; modifiers: pk, unique, nullable, default <value|now>.\n");
        o.push_str("entities:\n");
        for e in entities {
            entity(&mut o, e);
        }
    }
    let databases = unique(services.iter().filter_map(|s| s.database.as_ref()));
    let caches = unique(services.iter().filter_map(|s| s.cache.as_ref()));
    let topics = unique(
        services
            .iter()
            .flat_map(|s| s.publishes.iter().chain(&s.consumes)),
    );
    o.push('\n');
    if !databases.is_empty() {
        o.push_str("databases:\n");
        for d in &databases {
            let _ = writeln!(o, "  {}: {{ engine: postgres }}", scalar(d));
        }
    }
    if !caches.is_empty() {
        o.push_str("caches:\n");
        for c in &caches {
            let _ = writeln!(o, "  {}: {{ engine: redis }}", scalar(c));
        }
    }
    if !topics.is_empty() {
        let _ = writeln!(o, "messaging:\n  broker: {}\n  topics:", a.broker);
        for t in &topics {
            let _ = writeln!(o, "    {}: {{}}", scalar(t));
        }
    }
    if a.arch == "microservices" {
        let _ = writeln!(
            o,
            "mesh: {{ enabled: {}, mtls: strict }}   # Istio",
            a.mesh.unwrap_or(true)
        );
    }
    let _ = writeln!(
        o,
        "observability: {{ tracing: true, metrics: true, dashboards: true }}"
    );
    let _ = writeln!(o, "ci: {{ provider: {} }}", a.ci);
    o
}

fn entity(o: &mut String, e: &super::answers::EntityAnswers) {
    let _ = writeln!(o, "  {}:\n    fields:", scalar(&e.name));
    for (f, spec) in &e.fields {
        let _ = writeln!(o, "      {}: {}", scalar(f), scalar(spec));
    }
}

fn unique<'a>(items: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
    let mut seen: IndexMap<&String, ()> = IndexMap::new();
    for i in items {
        seen.insert(i, ());
    }
    seen.into_keys().collect()
}

fn service(o: &mut String, s: &ServiceAnswers) {
    let _ = writeln!(o, "  {}:", scalar(&s.name));
    if s.kind != "api" {
        let _ = writeln!(o, "    kind: {}", s.kind);
    }
    if s.kind == "gateway" {
        if !s.routes.is_empty() {
            o.push_str("    routes:\n");
            for r in &s.routes {
                let _ = writeln!(o, "      - {{ path: /api/{r}, to: {} }}", scalar(r));
            }
        }
        return;
    }
    let mut line = |k: &str, v: String| {
        let _ = writeln!(o, "    {k}: {v}");
    };
    match &s.image {
        Some(img) => {
            line(
                "image",
                format!("{}   # an existing image: infra only, no code", scalar(img)),
            );
        }
        None => line("language", scalar(&s.language)),
    }
    match s.protocol.as_str() {
        "grpc" => line("protocol", "grpc".into()),
        "both" => line("protocol", "[http, grpc]".into()),
        _ => {}
    }
    if let Some(p) = s.port {
        line("port", p.to_string());
    }
    if let Some(d) = &s.database {
        line("database", scalar(d));
    }
    if let Some(c) = &s.cache {
        line("cache", scalar(c));
    }
    if !s.entities.is_empty() {
        let names: Vec<String> = s.entities.iter().map(|e| e.name.clone()).collect();
        line("entities", flow_list(&names));
    }
    for (k, v) in [
        ("depends_on", &s.depends_on),
        ("publishes", &s.publishes),
        ("consumes", &s.consumes),
    ] {
        if !v.is_empty() {
            line(k, flow_list(v));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_that_yaml_would_retype_are_quoted() {
        assert_eq!(scalar("string(255) unique"), "string(255) unique");
        assert_eq!(scalar("enum(a, b) default a"), "enum(a, b) default a");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("a: b # c"), "\"a: b # c\"");
        assert_eq!(scalar("123"), "\"123\"");
        assert_eq!(scalar("ghcr.io/acme/x:1.2"), "\"ghcr.io/acme/x:1.2\"");
    }

    #[test]
    fn defaults_give_a_blueprint_without_errors_or_warnings() {
        let text = blueprint(&Answers::default()).unwrap();
        let loaded = crate::blueprint::load(&text, "blueprint.yaml");
        // Notes are advice (N0193: name your identity issuer before deploying), not problems.
        assert_eq!(
            loaded.diagnostics.error_count() + loaded.diagnostics.warning_count(),
            0,
            "{text}\n{:?}",
            loaded.diagnostics.items
        );
        let bp = loaded.blueprint.unwrap();
        assert_eq!(bp.name, "my-system");
        assert_eq!(bp.services["api"].database.as_deref(), Some("api-db"));
        assert!(bp.entities.contains_key("Item"));
    }

    #[test]
    fn example_answers_keep_the_example_and_change_the_top_level() {
        let a = Answers {
            name: "store".into(),
            arch: "monolith".into(),
            scale: "small".into(),
            broker: "rabbitmq".into(),
            example: Some("ecommerce".into()),
            ..Answers::default()
        };
        let text = blueprint(&a).unwrap();
        assert!(text.starts_with("# E-commerce platform"));
        let bp = crate::blueprint::load(&text, "b").blueprint.unwrap();
        assert_eq!(bp.name, "store");
        assert_eq!(bp.arch, crate::blueprint::ArchType::Monolith);
        assert_eq!(
            bp.messaging.unwrap().broker,
            crate::blueprint::Broker::Rabbitmq
        );
        assert_eq!(bp.ingress.unwrap().host, "store.example.com");
        assert!(bp.services.contains_key("orders"));
    }

    #[test]
    fn services_added_to_an_example_land_in_its_sections() {
        let reviews = ServiceAnswers {
            name: "reviews".into(),
            database: Some("reviews-db".into()),
            cache: Some("sessions".into()),
            depends_on: vec!["products".into()],
            consumes: vec!["order.created".into(), "review.flagged".into()],
            publishes: vec!["review.flagged".into()],
            entities: vec![super::super::answers::EntityAnswers {
                name: "Review".into(),
                fields: [("id", "uuid pk"), ("product_id", "ref Product")]
                    .into_iter()
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .collect(),
            }],
            ..ServiceAnswers::default()
        };
        // The other examples have no `products` or `Product`; the rest must still fit in.
        let mut plain = reviews.clone();
        plain.depends_on.clear();
        plain.entities[0].fields.shift_remove("product_id");
        for (example, svc) in [
            ("ecommerce", &reviews),
            ("auth-service", &plain),
            ("event-orders", &plain),
        ] {
            let a = Answers {
                example: Some(example.into()),
                services: vec![svc.clone()],
                ..Answers::default()
            };
            let text = blueprint(&a).unwrap();
            let loaded = crate::blueprint::load(&text, "b");
            let errors: Vec<_> = loaded
                .diagnostics
                .items
                .iter()
                .filter(|d| d.is_error())
                .collect();
            assert!(errors.is_empty(), "{text}\n{errors:#?}");
            let bp = loaded.blueprint.unwrap();
            assert_eq!(bp.services.keys().last().unwrap(), "reviews");
            assert!(bp.entities.contains_key("Review"));
            assert!(bp.databases.contains_key("reviews-db"));
            assert!(bp.caches.contains_key("sessions"));
            assert!(bp.messaging.unwrap().topics.contains_key("review.flagged"));
            assert!(text.starts_with("# "), "the example's comments are kept");
        }
    }
}
