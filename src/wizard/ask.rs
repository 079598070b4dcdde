//! The interactive flow: which questions, in which order, with which defaults. Pure over the
//! [`Prompter`]: pressing Enter at every question gives the same answers as `--yes`.

use super::answers::*;
use super::prompt::{Answer, Prompter};
use crate::assets;

const TYPES: [(&str, &str); 3] = [
    (
        "microservices",
        "one deployable and database per service, Istio mesh, gateway",
    ),
    (
        "serverless",
        "functions per route group and consumer, API Gateway, queues, managed data",
    ),
    (
        "monolith",
        "one application whose modules are the services, one database, one deployment",
    ),
];
const SCALES: [(&str, &str); 3] = [
    (
        "small",
        "1 replica (autoscale 1-3), single database; ~100 rps, p95 < 300 ms",
    ),
    (
        "medium",
        "2 replicas (2-10), multi-AZ database + read replica; ~2 000 rps, p95 < 200 ms",
    ),
    (
        "large",
        "3 replicas (3-50), 2 read replicas, cache cluster; ~20 000 rps, p95 < 150 ms",
    ),
];
const KIND_HELP: [(&str, &str); 4] = [
    ("api", "an HTTP/gRPC service with its own code and data"),
    ("worker", "a background consumer of events; no inbound API"),
    (
        "gateway",
        "the public entry point routing /api/... to services (no code)",
    ),
    ("frontend", "a web front end served to browsers"),
];
const PROTOCOL_HELP: [(&str, &str); 3] = [
    ("http", "REST over HTTP, port 8080"),
    ("grpc", "gRPC with a generated .proto, port 50051"),
    ("both", "HTTP and gRPC side by side"),
];
const BROKER_HELP: [(&str, &str); 3] = [
    ("kafka", "partitioned, replayable log (Amazon MSK)"),
    ("rabbitmq", "queues with flexible routing (Amazon MQ)"),
    ("sqs", "managed queues with nothing to run (AWS SQS/SNS)"),
];

fn items(list: &[(&str, &str)]) -> Vec<String> {
    list.iter().map(|(n, h)| format!("{n:<14} {h}")).collect()
}

fn index_of(list: &[(&str, &str)], name: &str) -> usize {
    list.iter().position(|(n, _)| *n == name).unwrap_or(0)
}

fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// Ask every question; `seed` supplies the defaults (from `--name`, `--type`, `--example`, …).
pub fn ask(p: &mut dyn Prompter, seed: &Answers) -> Answer<Answers> {
    let mut a = seed.clone();
    a.name = p.text("System name", &seed.name, &check_system_name)?;
    let default_description = if seed.description.is_empty() {
        format!("The {} system", a.name)
    } else {
        seed.description.clone()
    };
    a.description = p.text("One-line description", &default_description, &any)?;
    a.arch = TYPES[p.select(
        "Architecture type",
        &items(&TYPES),
        index_of(&TYPES, &seed.arch),
    )?]
    .0
    .into();
    a.scale = SCALES[p.select("Scale", &items(&SCALES), index_of(&SCALES, &seed.scale))?]
        .0
        .into();

    let examples = assets::examples();
    let labels: Vec<String> = examples
        .iter()
        .map(|(n, _)| format!("example {n}"))
        .collect();
    let width = labels.iter().map(String::len).max().unwrap_or(0).max(14);
    let mut starts = vec![format!(
        "{:<width$} describe the services one by one",
        "empty"
    )];
    starts.extend(
        labels
            .iter()
            .zip(&examples)
            .map(|(l, (_, text))| format!("{l:<width$} {}", assets::describe(text))),
    );
    let default_start = seed
        .example
        .as_ref()
        .and_then(|e| examples.iter().position(|(n, _)| n == e))
        .map_or(0, |i| i + 1);
    let start = p.select("Start from", &starts, default_start)?;
    let has_topics = if start == 0 {
        a.example = None;
        a.services = services(p, &a.arch, &[])?;
        uses_topics(&a.services)
    } else {
        let (name, text) = examples[start - 1];
        a.example = Some(name.to_owned());
        a.services.clear();
        if p.confirm("Add services of your own to the example?", false)? {
            a.services = services(p, &a.arch, &example_services(name))?;
        }
        text.lines().any(|l| l.starts_with("messaging:")) || uses_topics(&a.services)
    };
    if has_topics {
        let default = if a.arch == "serverless" {
            "sqs"
        } else {
            &seed.broker
        };
        let i = p.select(
            "Message broker",
            &items(&BROKER_HELP),
            index_of(&BROKER_HELP, default),
        )?;
        a.broker = BROKER_HELP[i].0.into();
    }
    a.mesh = if a.arch == "microservices" {
        Some(p.confirm(
            "Istio service mesh with strict mTLS?",
            seed.mesh.unwrap_or(true),
        )?)
    } else {
        None
    };
    let ci = [
        ("github", "GitHub Actions: build, test, deploy"),
        ("none", "no CI workflows"),
    ];
    a.ci = ci[p.select("CI", &items(&ci), index_of(&ci, &seed.ci))?]
        .0
        .into();
    Ok(a)
}

fn uses_topics(services: &[ServiceAnswers]) -> bool {
    services
        .iter()
        .any(|s| !s.publishes.is_empty() || !s.consumes.is_empty())
}

/// The services loop; `base` are services already there (an example's), which the new ones may
/// call, share stores with and route to. Returns only the new services.
fn services(
    p: &mut dyn Prompter,
    arch: &str,
    base: &[ServiceAnswers],
) -> Answer<Vec<ServiceAnswers>> {
    let mut out: Vec<ServiceAnswers> = base.to_vec();
    loop {
        let s = service(p, &out, arch)?;
        out.push(s);
        if !p.confirm("Add another service?", false)? {
            break;
        }
    }
    let targets: Vec<String> = out
        .iter()
        .filter(|s| s.kind != "gateway" && s.kind != "worker")
        .map(|s| s.name.clone())
        .collect();
    for gw in out[base.len()..].iter_mut().filter(|s| s.kind == "gateway") {
        if targets.is_empty() {
            continue;
        }
        let picked = p.multi_select(
            &format!("Services `{}` routes to (at /api/<service>)", gw.name),
            &targets,
            &vec![true; targets.len()],
        )?;
        gw.routes = picked.into_iter().map(|i| targets[i].clone()).collect();
    }
    Ok(out.split_off(base.len()))
}

fn unused(base: &str, taken: &[&str]) -> String {
    if check_new_name(base, taken, "").is_ok() {
        return base.to_owned();
    }
    (2..)
        .map(|i| format!("{base}-{i}"))
        .find(|n| check_new_name(n, taken, "").is_ok())
        .unwrap_or_default()
}

fn service(p: &mut dyn Prompter, before: &[ServiceAnswers], arch: &str) -> Answer<ServiceAnswers> {
    let taken: Vec<&str> = before.iter().map(|s| s.name.as_str()).collect();
    let default_name = if before.is_empty() {
        "api".to_owned()
    } else {
        unused(&format!("service-{}", before.len() + 1), &taken)
    };
    let mut s = ServiceAnswers {
        name: p.text(
            &format!("Service {} name", before.len() + 1),
            &default_name,
            &|x| check_new_name(x, &taken, "service"),
        )?,
        ..ServiceAnswers::default()
    };
    let n = s.name.clone();
    s.kind = KIND_HELP[p.select(&format!("Kind of `{n}`"), &items(&KIND_HELP), 0)?]
        .0
        .into();
    if s.kind == "gateway" {
        return Ok(s);
    }
    let mut code = vec![
        "generate code  python (FastAPI)".to_owned(),
        "existing image infrastructure only, no code".to_owned(),
    ];
    // TypeScript services: an HTTP API with a database, in microservices (no cache, no events).
    let ts_offered = arch == "microservices" && s.kind == "api";
    if ts_offered {
        code.push("generate code  typescript (Fastify, Node.js)".to_owned());
    }
    let choice = p.select(&format!("Code for `{n}`"), &code, 0)?;
    let ts = ts_offered && choice == 2;
    if ts {
        s.language = crate::blueprint::schema::TYPESCRIPT.into();
    }
    if choice == 1 {
        let image = p.text(&format!("Container image of `{n}`"), "", &|x| {
            if x.is_empty() || x.contains(char::is_whitespace) {
                Err("an image reference such as `ghcr.io/acme/search:1.4.2`".into())
            } else {
                Ok(())
            }
        })?;
        s.image = Some(image);
        let port = p.text(&format!("Port `{n}` listens on"), "8080", &|x| {
            x.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .map(|_| ())
                .ok_or_else(|| "a port number from 1 to 65535".to_owned())
        })?;
        s.port = port.parse().ok();
    }
    if s.kind != "worker" && arch != "serverless" && !ts {
        let i = p.select(&format!("Protocol of `{n}`"), &items(&PROTOCOL_HELP), 0)?;
        s.protocol = PROTOCOL_HELP[i].0.into();
    }
    s.database = store(p, before, &n, "database", "db", s.kind == "api")?;
    if !ts {
        s.cache = store(p, before, &n, "cache", "cache", false)?;
    }
    if s.database.is_some() && s.image.is_none() {
        s.entities = entities(p, before, &n)?;
    }
    let others: Vec<String> = taken.iter().map(|x| (*x).to_owned()).collect();
    if !others.is_empty() {
        let picked = p.multi_select(
            &format!("Services `{n}` calls (depends_on)"),
            &others,
            &vec![false; others.len()],
        )?;
        s.depends_on = picked.into_iter().map(|i| others[i].clone()).collect();
    }
    if ts {
        return Ok(s);
    }
    let known: Vec<&String> = before
        .iter()
        .flat_map(|b| b.publishes.iter().chain(&b.consumes))
        .collect();
    let hint = if known.is_empty() {
        String::new()
    } else {
        let k: Vec<&str> = known.iter().map(|t| t.as_str()).collect();
        format!("; known: {}", k.join(", "))
    };
    let publishes = p.text(
        &format!("Events `{n}` publishes (comma-separated topics, e.g. order.created{hint})"),
        "",
        &check_topics,
    )?;
    s.publishes = split_list(&publishes);
    let consumes = p.text(
        &format!("Events `{n}` consumes (comma-separated topics{hint})"),
        "",
        &check_topics,
    )?;
    s.consumes = split_list(&consumes);
    Ok(s)
}

/// A database or cache: a new one, one an earlier service declared, or none.
fn store(
    p: &mut dyn Prompter,
    before: &[ServiceAnswers],
    svc: &str,
    what: &str,
    suffix: &str,
    default_new: bool,
) -> Answer<Option<String>> {
    let pick = |s: &ServiceAnswers| {
        if what == "database" {
            s.database.clone()
        } else {
            s.cache.clone()
        }
    };
    let mut existing: Vec<String> = Vec::new();
    for name in before.iter().filter_map(pick) {
        if !existing.contains(&name) {
            existing.push(name);
        }
    }
    let mut choices = vec![format!("new {what}")];
    choices.extend(existing.iter().map(|e| format!("existing: {e}")));
    choices.push("none".into());
    let none = choices.len() - 1;
    let i = p.select(
        &format!("{} of `{svc}`", capitalise(what)),
        &choices,
        if default_new { 0 } else { none },
    )?;
    if i == none {
        return Ok(None);
    }
    if i > 0 {
        return Ok(Some(existing[i - 1].clone()));
    }
    let taken: Vec<&str> = existing.iter().map(String::as_str).collect();
    let default = unused(&format!("{svc}-{suffix}"), &taken);
    let name = p.text(&format!("Name of the new {what}"), &default, &|x| {
        check_new_name(x, &taken, what)
    })?;
    Ok(Some(name))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn entities(
    p: &mut dyn Prompter,
    before: &[ServiceAnswers],
    svc: &str,
) -> Answer<Vec<EntityAnswers>> {
    let mut known: Vec<String> = before
        .iter()
        .flat_map(|s| s.entities.iter().map(|e| e.name.clone()))
        .collect();
    let mut out: Vec<EntityAnswers> = Vec::new();
    loop {
        let default = if known.is_empty() && out.is_empty() {
            "Item"
        } else {
            ""
        };
        let taken: Vec<&str> = known.iter().map(String::as_str).collect();
        let name = p.text(
            &format!("Entity owned by `{svc}` (PascalCase; Enter when done)"),
            default,
            &|x| {
                if x.is_empty() {
                    Ok(())
                } else {
                    check_entity_name(x, &taken)
                }
            },
        )?;
        if name.is_empty() {
            return Ok(out);
        }
        known.push(name.clone());
        let mut e = EntityAnswers {
            name: name.clone(),
            fields: Default::default(),
        };
        loop {
            let has_pk = e
                .fields
                .values()
                .any(|s| crate::blueprint::fields::parse(s).is_ok_and(|f| f.pk));
            let default = if e.fields.is_empty() {
                "id: uuid pk"
            } else {
                ""
            };
            let names: Vec<&str> = e.fields.keys().map(String::as_str).collect();
            let refs: Vec<&str> = known.iter().map(String::as_str).collect();
            let line = p.text(
                &format!("Field of {name} (`name: type`, e.g. `email: string(255) unique`; Enter when done)"),
                default,
                &|x| {
                    if x.is_empty() {
                        if has_pk || !names.contains(&"id") {
                            Ok(())
                        } else {
                            Err("the entity has no primary key; add one marked `pk`".into())
                        }
                    } else {
                        parse_field_line(x, &refs, &names, has_pk).map(|_| ())
                    }
                },
            )?;
            if line.is_empty() {
                if !has_pk {
                    // Every entity needs its key; the usual one is added rather than asked again.
                    e.fields.shift_insert(0, "id".into(), "uuid pk".into());
                }
                break;
            }
            let (f, spec) = parse_field_line(&line, &refs, &names, has_pk).unwrap_or_default();
            e.fields.insert(f, spec);
        }
        out.push(e);
    }
}
