//! The Kubernetes, Istio and docker-compose layers agree on names: one name, one meaning.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use support::project::{Project, Tree};

fn generate(example: &str, arch: &str, scale: &str) -> Tree {
    Project::example(example).arch(arch).scale(scale).generate()
}

fn out(dir: &Tree) -> PathBuf {
    dir.path().to_path_buf()
}

fn yaml_files(root: &Path, acc: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            yaml_files(&p, acc);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            acc.push(p);
        }
    }
}

/// Every Kubernetes/Istio object under `dir`.
fn objects(dir: &Path) -> Vec<Value> {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
            .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", f.display()));
        out.extend(
            docs.into_iter()
                .filter(|d| d.get("kind").is_some() && d.get("apiVersion").is_some())
                .filter(|d| d["kind"] != "Kustomization"),
        );
    }
    out
}

fn of_kind<'a>(objs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objs.iter().filter(|o| o["kind"] == kind).collect()
}

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap()
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn pod_labels(objs: &[Value]) -> Vec<BTreeMap<String, String>> {
    of_kind(objs, "Deployment")
        .iter()
        .map(|d| labels(&d["spec"]["template"]["metadata"]["labels"]))
        .collect()
}

fn matches_a_pod(sel: &BTreeMap<String, String>, pods: &[BTreeMap<String, String>]) -> bool {
    pods.iter()
        .any(|p| sel.iter().all(|(k, v)| p.get(k) == Some(v)))
}

fn service_ports(objs: &[Value]) -> BTreeMap<String, BTreeSet<u64>> {
    of_kind(objs, "Service")
        .iter()
        .map(|s| {
            let ports = s["spec"]["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["port"].as_u64().unwrap())
                .collect();
            (name(s).to_owned(), ports)
        })
        .collect()
}

#[test]
fn every_layer_resolves_names_across_kubernetes_istio_and_compose() {
    let dir = generate("ecommerce", "microservices", "medium");
    let root = out(&dir);
    let k8s = objects(&root.join("deploy/k8s/base"));
    let istio = objects(&root.join("deploy/istio/dev"));
    let pods = pod_labels(&k8s);
    let services = service_ports(&k8s);

    // Service selectors, PDB and NetworkPolicy selectors hit a pod.
    for s in of_kind(&k8s, "Service") {
        let sel = labels(&s["spec"]["selector"]);
        assert!(
            sel.is_empty() || matches_a_pod(&sel, &pods),
            "Service {}",
            name(s)
        );
    }
    for n in of_kind(&k8s, "NetworkPolicy") {
        let sel = labels(&n["spec"]["podSelector"]["matchLabels"]);
        assert!(
            sel.is_empty() || matches_a_pod(&sel, &pods),
            "NetworkPolicy {}",
            name(n)
        );
    }
    // Every address in a ConfigMap is a Service and one of its ports.
    for cm in of_kind(&k8s, "ConfigMap") {
        for (k, v) in cm["data"].as_object().unwrap() {
            let v = v.as_str().unwrap();
            let Some(rest) = v
                .strip_prefix("http://")
                .or_else(|| v.strip_prefix("redis://"))
                .or((k.ends_with("_ADDR") || k.ends_with("_SERVERS")).then_some(v))
            else {
                continue;
            };
            let hostport = rest.split('/').next().unwrap();
            let (host, port) = hostport.split_once(':').unwrap();
            let ports = services
                .get(host)
                .unwrap_or_else(|| panic!("{k}={v}: no Service {host}"));
            assert!(ports.contains(&port.parse().unwrap()), "{k}={v}: port");
        }
    }
    // Istio hosts are Services; subsets select Deployments by their version label.
    let mut subsets = BTreeMap::new();
    for dr in of_kind(&istio, "DestinationRule") {
        let host = dr["spec"]["host"].as_str().unwrap();
        assert!(services.contains_key(host), "DestinationRule host {host}");
        for s in dr["spec"]["subsets"].as_array().unwrap() {
            let mut sel = labels(&s["labels"]);
            sel.insert("app.kubernetes.io/name".into(), host.into());
            assert!(matches_a_pod(&sel, &pods), "subset {s} of {host}");
            subsets
                .entry(host.to_owned())
                .or_insert_with(BTreeSet::new)
                .insert(s["name"].as_str().unwrap().to_owned());
        }
    }
    let vss = of_kind(&istio, "VirtualService");
    assert!(!vss.is_empty());
    for vs in vss {
        for r in vs["spec"]["http"].as_array().unwrap() {
            let dests = r["route"].as_array().unwrap();
            let total: u64 = dests.iter().map(|d| d["weight"].as_u64().unwrap()).sum();
            assert_eq!(total, 100, "weights of {}", name(vs));
            for d in dests {
                let host = d["destination"]["host"].as_str().unwrap();
                let subset = d["destination"]["subset"].as_str().unwrap();
                assert!(services.contains_key(host), "VirtualService host {host}");
                assert!(subsets[host].contains(subset), "{host}/{subset}");
            }
        }
    }
    // Principals name service accounts of the environment's namespace.
    let sas: BTreeSet<&str> = of_kind(&k8s, "ServiceAccount")
        .iter()
        .map(|s| name(s))
        .collect();
    for ap in of_kind(&istio, "AuthorizationPolicy") {
        for rule in ap["spec"]["rules"].as_array().into_iter().flatten() {
            // DENY policies name request principals (tokens), not peers.
            let peers = rule["from"][0]["source"]["principals"].as_array();
            for p in peers.into_iter().flatten() {
                let p = p.as_str().unwrap();
                if let Some(sa) = p.strip_prefix("cluster.local/ns/shop-dev/sa/") {
                    assert!(sas.contains(sa), "{p}");
                } else {
                    assert!(p.contains("istio-ingressgateway"), "{p}");
                }
            }
        }
    }
    // Token policies select workloads that exist.
    let deployments: BTreeSet<&str> = of_kind(&k8s, "Deployment")
        .iter()
        .map(|d| name(d))
        .collect();
    for ap in of_kind(&istio, "AuthorizationPolicy") {
        if ap["spec"]["action"] == "DENY" {
            let app = ap["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
                .as_str()
                .unwrap();
            assert!(deployments.iter().any(|d| d.starts_with(app)), "{app}");
        }
    }
    assert_eq!(of_kind(&istio, "RequestAuthentication").len(), 1);
    // Compose services carry the Kubernetes Service names (the gateway is local-only).
    let compose: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root.join("deploy/compose/docker-compose.yml")).unwrap(),
    )
    .unwrap();
    let compose_names: BTreeSet<&str> = compose["services"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let k8s_names: BTreeSet<&str> = services.keys().map(String::as_str).collect();
    // The gateway, the development token issuer, and the one-shot migrate services (Jobs in
    // Kubernetes).
    let local_only: BTreeSet<&str> = compose_names
        .iter()
        .copied()
        .filter(|n| *n == "gateway" || *n == "dev-issuer" || n.ends_with("-migrate"))
        .collect();
    assert!(local_only.contains("orders-db-migrate"), "{local_only:?}");
    assert_eq!(
        compose_names
            .difference(&local_only)
            .copied()
            .collect::<BTreeSet<_>>(),
        k8s_names
    );
    // The same environment names in compose and in the ConfigMap.
    let orders_cm = of_kind(&k8s, "ConfigMap")
        .into_iter()
        .find(|c| name(c) == "orders-config")
        .unwrap();
    // The same names and values, but for the token issuer: compose's is the development issuer.
    let local = &compose["services"]["orders"]["environment"];
    for (k, v) in orders_cm["data"].as_object().unwrap() {
        if k == "AUTH_ISSUER" || k == "AUTH_JWKS_URL" {
            assert!(
                local[k].as_str().unwrap().starts_with("http://dev-issuer:"),
                "{k}"
            );
            assert!(v.as_str().unwrap().starts_with("https://"), "{k}");
        } else {
            assert_eq!(&local[k], v, "{k}");
        }
    }
}

#[test]
fn versioned_service_gets_one_deployment_per_version_with_matching_labels() {
    let dir = generate("ecommerce", "microservices", "small");
    let k8s = objects(&out(&dir).join("deploy/k8s/base/orders"));
    let deps = of_kind(&k8s, "Deployment");
    let got: Vec<(&str, &str)> = deps
        .iter()
        .map(|d| {
            (
                name(d),
                d["spec"]["template"]["metadata"]["labels"]["version"]
                    .as_str()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [("orders-v1", "v1"), ("orders-v2", "v2")]);
    let hpas: Vec<&str> = of_kind(&k8s, "HorizontalPodAutoscaler")
        .iter()
        .map(|h| h["spec"]["scaleTargetRef"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(hpas, ["orders-v1", "orders-v2"]);
    // small: no PodDisruptionBudget.
    assert!(of_kind(&k8s, "PodDisruptionBudget").is_empty());
}

#[test]
fn pods_are_hardened_with_probes_pinned_images_and_secret_credentials() {
    let dir = generate("event-orders", "microservices", "large");
    let k8s = objects(&out(&dir).join("deploy/k8s/base"));
    for d in of_kind(&k8s, "Deployment") {
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["automountServiceAccountToken"], false);
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert!(pod["securityContext"]["runAsUser"].as_u64().unwrap() > 10000);
        assert!(pod["topologySpreadConstraints"].is_array(), "large spreads");
        let c = &pod["containers"][0];
        let image = c["image"].as_str().unwrap();
        assert!(
            !image.ends_with(":latest") && image.contains(':'),
            "{image}"
        );
        assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
        assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
        assert!(c["readinessProbe"].is_object() && c["livenessProbe"].is_object());
        for e in c["env"].as_array().into_iter().flatten() {
            assert!(e.get("value").is_none(), "literal env {e}");
            assert!(e["valueFrom"]["secretKeyRef"].is_object());
        }
        assert_eq!(pod["volumes"][0]["emptyDir"]["sizeLimit"], "64Mi");
    }
    // large: minAvailable 2.
    for p in of_kind(&k8s, "PodDisruptionBudget") {
        assert_eq!(p["spec"]["minAvailable"], 2);
    }
    // The existing image keeps its tag and gets the same wiring.
    let rec = of_kind(&k8s, "Deployment")
        .into_iter()
        .find(|d| name(d) == "recommendations")
        .unwrap();
    assert_eq!(
        rec["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/acme/recommendations:1.4.2"
    );
}

#[test]
fn monolith_is_one_app_behind_an_ingress_without_istio() {
    let dir = generate("ecommerce", "monolith", "medium");
    let root = out(&dir);
    assert!(!root.join("deploy/istio").exists());
    let k8s = objects(&root.join("deploy/k8s/base"));
    let deps: Vec<&str> = of_kind(&k8s, "Deployment")
        .iter()
        .map(|d| name(d))
        .collect();
    assert_eq!(deps, ["shop-app"]);
    let ing = of_kind(&k8s, "Ingress");
    assert_eq!(ing.len(), 1);
    for p in ing[0]["spec"]["rules"][0]["http"]["paths"]
        .as_array()
        .unwrap()
    {
        assert_eq!(p["backend"]["service"]["name"], "shop-app");
    }
    let overlay =
        std::fs::read_to_string(root.join("deploy/k8s/overlays/dev/kustomization.yaml")).unwrap();
    assert!(overlay.contains("namespace: shop-dev"));
    assert!(overlay.contains("value: \"dev.shop.example.com\""));
}

#[test]
fn serverless_has_no_kubernetes_or_compose() {
    let dir = generate("ecommerce", "serverless", "small");
    assert!(!out(&dir).join("deploy/k8s").exists());
    assert!(!out(&dir).join("deploy/compose").exists());
}

/// The `(Secret, key)` pairs the apps and the migration Jobs read.
fn secrets_read(root: &Path) -> BTreeSet<(String, String)> {
    let mut wanted = BTreeSet::new();
    let mut pods = of_kind(&objects(&root.join("deploy/k8s/base")), "Deployment")
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    pods.extend(
        of_kind(&objects(&root.join("deploy/k8s/migrations/base")), "Job")
            .into_iter()
            .cloned(),
    );
    for d in &pods {
        let env = &d["spec"]["template"]["spec"]["containers"][0]["env"];
        for e in env.as_array().into_iter().flatten() {
            let r = &e["valueFrom"]["secretKeyRef"];
            if let (Some(n), Some(k)) = (r["name"].as_str(), r["key"].as_str()) {
                wanted.insert((n.to_owned(), k.to_owned()));
            }
        }
    }
    wanted
}

/// Every Secret a pod reads is written by an ExternalSecret from the RDS-managed master secret
/// (which RDS rotates) and the address Terraform publishes; the deploy job sets the master
/// secret's ARN, of the RDS instance Terraform names, and the reader's IAM role before it
/// applies the migrations, waits for the Secret before the Jobs, and migrates before the apps.
#[test]
fn every_secret_a_pod_reads_is_kept_in_sync_with_rds_by_external_secrets() {
    for arch in ["microservices", "monolith"] {
        let dir = generate("ecommerce", arch, "small");
        let root = out(&dir);
        let wanted = secrets_read(&root);
        assert!(!wanted.is_empty(), "{arch}: the apps read database secrets");
        let terraform = std::fs::read_to_string(root.join("infra/terraform/main.tf")).unwrap();
        let text = std::fs::read_to_string(root.join(".github/workflows/deploy.yml")).unwrap();
        let wf: Value = serde_saphyr::from_str(&text).unwrap();
        for env in ["dev", "staging", "prod"] {
            let overlay = root.join(format!("deploy/k8s/migrations/overlays/{env}"));
            let objs = objects(&overlay);
            let kustomization =
                std::fs::read_to_string(overlay.join("kustomization.yaml")).unwrap();
            assert!(
                kustomization.contains("  - credentials.yaml"),
                "{arch} {env}"
            );
            let steps = wf["jobs"][format!("deploy-{env}")]["steps"]
                .as_array()
                .unwrap();
            let at = |name: &str| steps.iter().position(|s| s["name"] == name);
            let creds = at(&format!("Database credentials ({env})")).expect("credentials step");
            let migrate = at(&format!("Migrate databases ({env})")).expect("migrate step");
            let apply = at(&format!("kustomize apply ({env})")).expect("apply step");
            assert!(creds < migrate && migrate < apply, "{arch} {env}: order");
            let creds_run = steps[creds]["run"].as_str().unwrap();
            let migrate_run = steps[migrate]["run"].as_str().unwrap();
            for (secret, key) in &wanted {
                let db = secret.strip_suffix("-credentials").unwrap();
                let es = of_kind(&objs, "ExternalSecret")
                    .into_iter()
                    .find(|o| o["spec"]["target"]["name"] == secret.as_str())
                    .unwrap_or_else(|| panic!("{arch} {env}: no ExternalSecret writes {secret}"));
                let url = es["spec"]["target"]["template"]["data"][key.as_str()]
                    .as_str()
                    .unwrap_or_else(|| panic!("{arch} {env}: {secret} has no {key}"));
                assert!(
                    url.contains("{{ .password | urlquery")
                        && url.contains("@{{ .address }}/")
                        && url.contains("sslmode=verify-full"),
                    "{url}"
                );
                let data = es["spec"]["data"].as_array().unwrap();
                let refs: BTreeMap<&str, (&str, &str)> = data
                    .iter()
                    .map(|d| {
                        let r = &d["remoteRef"];
                        (
                            d["secretKey"].as_str().unwrap(),
                            (r["key"].as_str().unwrap(), r["property"].as_str().unwrap()),
                        )
                    })
                    .collect();
                // username and password come from the master secret (entries 0 and 1, the
                // ones the deploy job's patch replaces), the address from the endpoints secret.
                assert_eq!(data[0]["secretKey"], "username");
                assert_eq!(data[1]["secretKey"], "password");
                assert_eq!(
                    refs["address"],
                    (format!("shop-{env}/endpoints").as_str(), db)
                );
                let module = format!("module.database_{}", db.replace('-', "_"));
                let address = format!("= \"${{{module}.address}}:${{{module}.port}}\"");
                assert!(
                    terraform.lines().any(|l| {
                        let l = l.trim();
                        l.starts_with(&format!("\"{db}\" ")) && l.ends_with(&address)
                    }),
                    "{arch}: the endpoints secret has no address for {db}"
                );
                // The deploy job writes the ARN of the RDS instance Terraform names
                // `<prefix>-<database>` (prefix `<system>-<env>`), and the reader's role.
                let call = format!("credentials shop-{env}-{db} {secret} shop-{env}-{secret}");
                assert!(
                    creds_run.lines().any(|l| l.trim() == call),
                    "{call}\n{creds_run}"
                );
                assert!(creds_run.contains("/spec/data/0/remoteRef/key"));
                assert!(creds_run.contains("/spec/data/1/remoteRef/key"));
                assert!(
                    terraform.contains(&format!("\"${{local.prefix}}-{db}\"")),
                    "{db}"
                );
                let store = &es["spec"]["secretStoreRef"]["name"];
                let store = of_kind(&objs, "SecretStore")
                    .into_iter()
                    .find(|o| o["metadata"]["name"] == *store)
                    .expect("its SecretStore");
                let sa =
                    &store["spec"]["provider"]["aws"]["auth"]["jwt"]["serviceAccountRef"]["name"];
                assert!(
                    of_kind(&objs, "ServiceAccount")
                        .iter()
                        .any(|o| o["metadata"]["name"] == *sa)
                );
                assert_eq!(sa, secret.as_str());
                // Its IAM role may read this database's master secret, and the address.
                let policy = terraform
                    .split(&format!(
                        "data \"aws_iam_policy_document\" \"{}\" {{",
                        secret.replace('-', "_")
                    ))
                    .nth(1)
                    .unwrap_or_else(|| panic!("{arch}: no policy for {secret}"));
                let policy = policy.split("\n}\n").next().unwrap();
                assert!(policy.contains(&format!(
                    "resources = [module.database_{}.master_user_secret_arn, aws_secretsmanager_secret.endpoints.arn]",
                    db.replace('-', "_")
                )));
                assert!(terraform.contains(&format!(
                    "{{ name = \"{secret}\", service_account = \"{secret}\" }}"
                )));
                assert!(
                    migrate_run.contains(&format!(" {secret}"))
                        && migrate_run.contains("--for=condition=Ready \"externalsecret/$secret\""),
                    "{arch} {env}: the Jobs start before {secret} is written"
                );
            }
        }
        // A rotated password reaches running pods: Reloader rolls every Deployment whose
        // Secret changed.
        for d in of_kind(&objects(&root.join("deploy/k8s/base")), "Deployment") {
            assert_eq!(
                d["metadata"]["annotations"]["reloader.stakater.com/auto"],
                "true",
                "{arch}: {} is not rolled when its Secret changes",
                name(d)
            );
        }
        // No workload reads a master secret itself: only the databases' readers.
        for l in terraform
            .lines()
            .filter(|l| l.contains("master_user_secret_arn"))
        {
            assert!(
                l.contains("aws_secretsmanager_secret.endpoints.arn"),
                "{arch}: {l}"
            );
        }
    }
}

#[test]
fn every_external_name_outside_the_cluster_is_a_record_of_the_terraform_private_zone() {
    for (example, arch) in [("ecommerce", "microservices"), ("auth-service", "monolith")] {
        let dir = generate(example, arch, "small");
        let root = out(&dir);
        let terraform = std::fs::read_to_string(root.join("infra/terraform/main.tf")).unwrap();
        let zone = terraform
            .split("resource \"aws_route53_zone\" \"internal\" {")
            .nth(1)
            .and_then(|rest| {
                rest.lines()
                    .find_map(|l| l.trim().strip_prefix("name    = "))
            })
            .unwrap_or_else(|| panic!("{example}: no private zone"))
            .trim_matches('"')
            .to_owned();
        let k8s = objects(&root.join("deploy/k8s/base"));
        let external: Vec<&str> = of_kind(&k8s, "Service")
            .into_iter()
            .filter_map(|s| s["spec"]["externalName"].as_str())
            .filter(|n| !n.ends_with(".svc.cluster.local"))
            .collect();
        assert!(external.len() >= 2, "{example}: {external:?}");
        for name in external {
            assert!(name.ends_with(&format!(".{zone}")), "{name} outside {zone}");
            let record = terraform
                .split("resource \"aws_route53_record\"")
                .skip(1)
                .find(|r| r.contains(&format!("name    = \"{name}\"")))
                .unwrap_or_else(|| panic!("{example}: no record for {name}"));
            assert!(
                record.contains("zone_id = aws_route53_zone.internal.zone_id"),
                "{record}"
            );
            // The CNAME's target is a Terraform output of the managed service's module.
            let target = record.lines().find(|l| l.contains("records = [")).unwrap();
            assert!(target.contains("module."), "{record}");
        }
    }
}

/// The scale presets' edge limits, read from the data file itself (not through the tool).
fn preset_edge(scale: &str) -> (u64, u64) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("blueprints/presets.yaml"),
    )
    .unwrap();
    let all: Value = serde_saphyr::from_str(&text).unwrap();
    let edge = &all[scale]["edge"];
    (
        edge["rate_limit_rps"].as_u64().unwrap(),
        edge["rate_limit_burst"].as_u64().unwrap(),
    )
}

#[test]
fn kubernetes_limits_each_client_at_the_edge_with_the_presets_numbers() {
    for scale in ["small", "large"] {
        let (rps, burst) = preset_edge(scale);
        // With Istio: an EnvoyFilter on the ingress gateway, one token bucket per client address.
        let dir = generate("ecommerce", "microservices", scale);
        let root = out(&dir);
        for env in ["dev", "prod"] {
            let folder = root.join(format!("deploy/istio/{env}/ingress-gateway"));
            let objs = objects(&folder);
            let filters = of_kind(&objs, "EnvoyFilter");
            assert_eq!(filters.len(), 1, "{scale}/{env}: one EnvoyFilter");
            let f = filters[0];
            assert_eq!(f["metadata"]["namespace"], "istio-system");
            assert_eq!(
                f["spec"]["workloadSelector"]["labels"]["istio"],
                "ingressgateway"
            );
            let cfg = &f["spec"]["configPatches"][0]["patch"]["value"]["typed_config"];
            assert_eq!(
                cfg["rate_limits"][0]["actions"][0]["remote_address"],
                serde_json::json!({})
            );
            let d = &cfg["descriptors"][0];
            assert_eq!(d["entries"][0]["key"], "remote_address");
            assert_eq!(
                d["entries"][0]["value"], "",
                "an empty value: a bucket per client"
            );
            assert_eq!(d["token_bucket"]["tokens_per_fill"].as_u64(), Some(rps));
            assert_eq!(d["token_bucket"]["max_tokens"].as_u64(), Some(burst));
            assert_eq!(d["token_bucket"]["fill_interval"], "1s");
            assert_eq!(cfg["always_consume_default_token_bucket"], false);
            let kust = std::fs::read_to_string(folder.join("kustomization.yaml")).unwrap();
            assert!(kust.contains("namespace: istio-system"), "{kust}");
            // The deploy job applies the folder (the overlay would move it to the app namespace).
            let deploy =
                std::fs::read_to_string(root.join(".github/workflows/deploy.yml")).unwrap();
            assert!(
                deploy.contains(&format!(
                    "kubectl apply -k deploy/istio/{env}/ingress-gateway"
                )),
                "the deploy workflow applies the {env} rate limit"
            );
        }
        // Without a mesh: the ingress-nginx annotations, per client address as nginx does it.
        let dir = generate("ecommerce", "monolith", scale);
        let k8s = objects(&out(&dir).join("deploy/k8s/base"));
        let ing = of_kind(&k8s, "Ingress");
        let a = &ing[0]["metadata"]["annotations"];
        assert_eq!(
            a["nginx.ingress.kubernetes.io/limit-rps"],
            rps.to_string(),
            "{scale}"
        );
        let mult: u64 = a["nginx.ingress.kubernetes.io/limit-burst-multiplier"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            rps * mult >= burst && rps * (mult - 1) < burst,
            "{scale}: {mult}"
        );
    }
}
