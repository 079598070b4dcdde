//! What the wizard learns: one [`Answers`] value, filled by the prompts or read from an
//! `--answers` file (YAML or JSON, same shape), plus the checks each answer must pass. The
//! same checks run at the prompt (so a wrong entry is refused as it is typed) and on a file.

use crate::blueprint::fields::{self, FieldType};
use crate::blueprint::validate::is_dns_label;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub const KINDS: [&str; 4] = ["api", "worker", "gateway", "frontend"];
pub const PROTOCOLS: [&str; 3] = ["http", "grpc", "both"];
pub const BROKERS: [&str; 3] = ["kafka", "rabbitmq", "sqs"];
pub const CI_PROVIDERS: [&str; 2] = ["github", "none"];
pub const DEFAULT_NAME: &str = "my-system";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Answers {
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub arch: String,
    pub scale: String,
    /// Start from this built-in example; `services` are then added to the example's.
    pub example: Option<String>,
    pub services: Vec<ServiceAnswers>,
    /// Used when some service publishes or consumes a topic.
    pub broker: String,
    /// Istio mesh (microservices only); `None`: on for microservices.
    pub mesh: Option<bool>,
    pub ci: String,
}

impl Default for Answers {
    fn default() -> Self {
        Answers {
            name: DEFAULT_NAME.into(),
            description: String::new(),
            arch: "microservices".into(),
            scale: "medium".into(),
            example: None,
            services: Vec::new(),
            broker: "kafka".into(),
            mesh: None,
            ci: "github".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceAnswers {
    pub name: String,
    pub kind: String,
    /// Generated code in this language (python, typescript); ignored when `image` is set.
    pub language: String,
    /// An existing container image: infrastructure only, no code.
    pub image: Option<String>,
    pub port: Option<u16>,
    /// http | grpc | both
    pub protocol: String,
    /// A database name; declared when first named. `None`: no database.
    pub database: Option<String>,
    pub cache: Option<String>,
    pub entities: Vec<EntityAnswers>,
    pub depends_on: Vec<String>,
    pub publishes: Vec<String>,
    pub consumes: Vec<String>,
    /// Gateway only: services routed at `/api/<service>`.
    pub routes: Vec<String>,
}

impl Default for ServiceAnswers {
    fn default() -> Self {
        ServiceAnswers {
            name: String::new(),
            kind: "api".into(),
            language: "python".into(),
            image: None,
            port: None,
            protocol: "http".into(),
            database: None,
            cache: None,
            entities: Vec::new(),
            depends_on: Vec::new(),
            publishes: Vec::new(),
            consumes: Vec::new(),
            routes: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityAnswers {
    pub name: String,
    /// Field name → spec in the blueprint's field syntax (`string(255) unique`).
    pub fields: IndexMap<String, String>,
}

impl ServiceAnswers {
    pub fn has_code(&self) -> bool {
        self.kind != "gateway" && self.image.is_none()
    }
}

/// The service the wizard proposes when none is described: enough for a valid, useful blueprint.
pub fn default_service() -> ServiceAnswers {
    ServiceAnswers {
        name: "api".into(),
        database: Some("api-db".into()),
        entities: vec![default_entity("Item")],
        ..ServiceAnswers::default()
    }
}

pub fn default_entity(name: &str) -> EntityAnswers {
    EntityAnswers {
        name: name.into(),
        fields: [("id".to_owned(), "uuid pk".to_owned())]
            .into_iter()
            .collect(),
    }
}

pub fn check_system_name(s: &str) -> Result<(), String> {
    if is_dns_label(s, 40) {
        Ok(())
    } else {
        Err(dns_help(s, 40))
    }
}

fn dns_help(s: &str, max: usize) -> String {
    if s.is_empty() {
        "a name is required".into()
    } else if s.len() > max {
        format!("`{s}` is {} characters; at most {max}", s.len())
    } else {
        format!(
            "`{s}` is not a DNS-1123 label: use lowercase letters, digits and `-`, starting with a letter (e.g. `{}`)",
            suggest_label(s)
        )
    }
}

fn suggest_label(s: &str) -> String {
    let k = heck::ToKebabCase::to_kebab_case(s);
    let k: String = k
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect();
    let k = k.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    if k.is_empty() {
        "my-name".into()
    } else {
        k.trim_end_matches('-').to_owned()
    }
}

/// A name for a service, database or cache: a DNS label not yet used in its section, and not
/// folding to the same code name as one that is (`user-service` vs `user_service`).
pub fn check_new_name(s: &str, taken: &[&str], what: &str) -> Result<(), String> {
    if !is_dns_label(s, 40) {
        return Err(dns_help(s, 40));
    }
    let fold = |x: &str| heck::ToSnakeCase::to_snake_case(x);
    match taken.iter().find(|t| fold(t) == fold(s)) {
        Some(t) if *t == s => Err(format!("there is already a {what} named `{s}`")),
        Some(t) => Err(format!(
            "`{s}` and the {what} `{t}` become the same name in code"
        )),
        None => Ok(()),
    }
}

pub fn check_entity_name(s: &str, taken: &[&str]) -> Result<(), String> {
    let pascal = s.len() <= 60
        && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && s.chars().all(|c| c.is_ascii_alphanumeric());
    if !pascal {
        let hint = heck::ToUpperCamelCase::to_upper_camel_case(s);
        return Err(format!(
            "`{s}` is not PascalCase: start with a capital letter, letters and digits only (e.g. `{hint}`)"
        ));
    }
    if taken.contains(&s) {
        return Err(format!("there is already an entity named `{s}`"));
    }
    Ok(())
}

pub fn check_topic(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 120
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "topic `{s}` is not valid: lowercase letters, digits, `.`, `_` and `-`, e.g. `order.created`"
        ))
    }
}

/// Comma- or space-separated topic names.
pub fn split_list(s: &str) -> Vec<String> {
    s.split([',', ' '])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

pub fn check_topics(s: &str) -> Result<(), String> {
    split_list(s).iter().try_for_each(|t| check_topic(t))
}

/// A field line `name: spec`. `known` are the entity names a `ref` may name; `has_pk` whether
/// the entity already has its primary key.
pub fn parse_field_line(
    line: &str,
    known: &[&str],
    existing: &[&str],
    has_pk: bool,
) -> Result<(String, String), String> {
    let Some((name, spec)) = line.split_once(':') else {
        return Err("write `name: type`, e.g. `email: string(255) unique`".into());
    };
    let (name, spec) = (name.trim(), spec.trim());
    check_field(name, spec, known, existing, has_pk)?;
    Ok((name.to_owned(), spec.to_owned()))
}

pub fn check_field(
    name: &str,
    spec: &str,
    known: &[&str],
    existing: &[&str],
    has_pk: bool,
) -> Result<(), String> {
    let snake = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !snake {
        return Err(format!(
            "field name `{name}` is not snake_case (lowercase letters, digits and `_`)"
        ));
    }
    if existing.contains(&name) {
        return Err(format!("field `{name}` is already defined"));
    }
    let f = fields::parse_checked(spec).map_err(|e| format!("`{spec}`: {e}"))?;
    if f.pk && has_pk {
        return Err("this entity already has a primary key; mark exactly one field `pk`".into());
    }
    if let FieldType::Ref(target) = &f.ty
        && !known.contains(&target.as_str())
    {
        return Err(format!(
            "`ref {target}` names an unknown entity (known so far: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        ));
    }
    Ok(())
}

/// The services of a built-in example, as answers: names, kinds, stores, entity names and
/// topics (what later questions offer or check against), without entity fields.
pub fn example_services(example: &str) -> Vec<ServiceAnswers> {
    let Some(bp) = crate::assets::example(example)
        .and_then(|text| crate::blueprint::load(text, example).blueprint)
    else {
        return Vec::new();
    };
    bp.services
        .iter()
        .map(|(name, s)| ServiceAnswers {
            name: name.clone(),
            kind: format!("{:?}", s.kind).to_lowercase(),
            image: s.image.clone(),
            database: s.database.clone(),
            cache: s.cache.clone(),
            entities: s
                .entities
                .iter()
                .map(|e| EntityAnswers {
                    name: e.clone(),
                    fields: IndexMap::new(),
                })
                .collect(),
            depends_on: s.depends_on.clone(),
            publishes: s.publishes.clone(),
            consumes: s.consumes.clone(),
            routes: s.routes.iter().map(|r| r.to.clone()).collect(),
            ..ServiceAnswers::default()
        })
        .collect()
}

/// Read an answers file (YAML, or JSON which is YAML too).
pub fn parse(text: &str) -> Result<Answers, serde_saphyr::Error> {
    serde_saphyr::from_str::<Answers>(text)
}

/// Every answer checked the way the prompts check them; messages name the answer's path.
pub fn check(a: &Answers) -> Vec<String> {
    let mut errs = Vec::new();
    let mut push = |path: String, r: Result<(), String>| {
        if let Err(e) = r {
            errs.push(format!("{path}: {e}"));
        }
    };
    push("name".into(), check_system_name(&a.name));
    let one_of = |v: &str, list: &[&str]| {
        if list.contains(&v) {
            Ok(())
        } else {
            Err(format!("`{v}` is not one of {}", list.join(", ")))
        }
    };
    push(
        "type".into(),
        one_of(&a.arch, &crate::blueprint::ArchType::NAMES),
    );
    push(
        "scale".into(),
        one_of(&a.scale, &crate::blueprint::Scale::NAMES),
    );
    push("broker".into(), one_of(&a.broker, &BROKERS));
    push("ci".into(), one_of(&a.ci, &CI_PROVIDERS));
    let base = match &a.example {
        Some(ex) => {
            let names: Vec<&str> = crate::assets::examples()
                .into_iter()
                .map(|(n, _)| n)
                .collect();
            push("example".into(), one_of(ex, &names));
            example_services(ex)
        }
        None => Vec::new(),
    };
    // The example's services, entities and the like are known names for the added services.
    let mut services: Vec<&str> = base.iter().map(|s| s.name.as_str()).collect();
    let mut entities: Vec<&str> = base
        .iter()
        .flat_map(|s| s.entities.iter().map(|e| e.name.as_str()))
        .collect();
    for (i, s) in a.services.iter().enumerate() {
        let p = format!("services[{i}]");
        push(
            format!("{p}.name"),
            check_new_name(&s.name, &services, "service"),
        );
        services.push(&s.name);
        push(format!("{p}.kind"), one_of(&s.kind, &KINDS));
        push(format!("{p}.protocol"), one_of(&s.protocol, &PROTOCOLS));
        if s.image.is_none() {
            push(
                format!("{p}.language"),
                one_of(&s.language, crate::blueprint::schema::LANGUAGES),
            );
        }
        for (key, v) in [("database", &s.database), ("cache", &s.cache)] {
            if let Some(v) = v {
                push(format!("{p}.{key}"), check_new_name(v, &[], key));
            }
        }
        for (key, list) in [("publishes", &s.publishes), ("consumes", &s.consumes)] {
            for (j, t) in list.iter().enumerate() {
                push(format!("{p}.{key}[{j}]"), check_topic(t));
            }
        }
        for e in &s.entities {
            push(
                format!("{p}.entities.{}", e.name),
                check_entity_name(&e.name, &entities),
            );
            entities.push(&e.name);
        }
    }
    for (i, s) in a.services.iter().enumerate() {
        for e in &s.entities {
            let mut seen: Vec<&str> = Vec::new();
            let mut pk = false;
            for (f, spec) in &e.fields {
                let r = check_field(f, spec, &entities, &seen, pk);
                pk |= fields::parse(spec).is_ok_and(|x| x.pk);
                push(format!("services[{i}].entities.{}.fields.{f}", e.name), r);
                seen.push(f);
            }
        }
        for (key, list) in [("depends_on", &s.depends_on), ("routes", &s.routes)] {
            for (j, d) in list.iter().enumerate() {
                let r = if !services.contains(&d.as_str()) {
                    Err(format!(
                        "unknown service `{d}`; {}",
                        crate::diagnostic::suggest(d, &services)
                    ))
                } else if *d == s.name {
                    Err(format!("`{d}` cannot name itself"))
                } else {
                    Ok(())
                };
                push(format!("services[{i}].{key}[{j}]"), r);
            }
        }
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_system_names_are_refused_with_a_suggestion() {
        let e = check_system_name("Bad_Name").unwrap_err();
        assert!(e.contains("`bad-name`"), "{e}");
        assert!(
            check_system_name(&"a".repeat(41))
                .unwrap_err()
                .contains("at most 40")
        );
        assert!(check_system_name("shop").is_ok());
    }

    #[test]
    fn names_folding_to_the_same_code_name_collide() {
        let e = check_new_name("user-service", &["user_service"], "service");
        assert!(e.is_err());
        assert!(
            check_new_name("users", &["users"], "service")
                .unwrap_err()
                .contains("already")
        );
    }

    #[test]
    fn field_lines_use_the_blueprint_field_syntax() {
        let (n, s) = parse_field_line("email: string(255) unique", &[], &[], true).unwrap();
        assert_eq!((n.as_str(), s.as_str()), ("email", "string(255) unique"));
        assert!(parse_field_line("price: decimal(2,5)", &[], &[], true).is_err());
        assert!(
            parse_field_line("id: uuid pk", &[], &[], true)
                .unwrap_err()
                .contains("primary key")
        );
        assert!(
            parse_field_line("owner: ref User", &["Order"], &[], true)
                .unwrap_err()
                .contains("unknown entity")
        );
        assert!(parse_field_line("Email: text", &[], &[], true).is_err());
        assert!(parse_field_line("no colon", &[], &[], true).is_err());
    }

    #[test]
    fn answers_file_errors_name_the_answer() {
        let a = parse("name: Shop\nservices:\n  - name: users\n    depends_on: [usres]\n").unwrap();
        let errs = check(&a);
        assert!(errs.iter().any(|e| e.starts_with("name: ")), "{errs:?}");
        assert!(
            errs.iter()
                .any(|e| e.starts_with("services[0].depends_on[0]: unknown service `usres`")),
            "{errs:?}"
        );
    }

    #[test]
    fn services_added_to_an_example_may_use_its_names_but_not_reuse_them() {
        let a = parse(
            "example: ecommerce\nservices:\n  - { name: users }\n  - name: reviews\n    depends_on: [products]\n    database: reviews-db\n    entities: [{ name: Review, fields: { id: uuid pk, product_id: ref Product } }]\n",
        )
        .unwrap();
        assert_eq!(
            check(&a),
            ["services[0].name: there is already a service named `users`"]
        );
        let a = parse("example: ecomerce\n").unwrap();
        assert!(check(&a)[0].starts_with("example: `ecomerce` is not one of"));
    }

    #[test]
    fn unknown_answer_keys_are_refused() {
        assert!(parse("name: shop\nservise: []\n").is_err());
    }
}
