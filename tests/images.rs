//! Existing images keep their own contract (issue 21): the ports, probes, environment, user,
//! volumes and command a blueprint declares for an `image:` service are what its Kubernetes
//! Deployment, Service, NetworkPolicy, Istio policy and compose service say, and `check` finds
//! every reference resolved.

mod support;

use serde_json::Value;
use std::path::Path;
use support::project::{Project, Tree};

fn docs(tree: &Tree, rel: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(&tree.read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn one(tree: &Tree, rel: &str) -> Value {
    docs(tree, rel)
        .into_iter()
        .find(|d| d.get("kind").is_some())
        .unwrap()
}

fn container(tree: &Tree, svc: &str) -> Value {
    let d = one(tree, &format!("deploy/k8s/base/{svc}/deployment.yaml"));
    d["spec"]["template"]["spec"]["containers"][0].clone()
}

fn compose(tree: &Tree) -> Value {
    one_compose(tree.path())
}

fn one_compose(root: &Path) -> Value {
    let text = std::fs::read_to_string(root.join("deploy/compose/docker-compose.yml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// (name, port, targetPort, appProtocol) of a Service.
fn service_ports(tree: &Tree, svc: &str) -> Vec<(String, u64, String, String)> {
    let s = one(tree, &format!("deploy/k8s/base/{svc}/service.yaml"));
    s["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["port"].as_u64().unwrap(),
                p["targetPort"].as_str().unwrap().to_owned(),
                p["appProtocol"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn config(tree: &Tree, svc: &str) -> Value {
    one(tree, &format!("deploy/k8s/base/{svc}/config-map.yaml"))["data"].clone()
}

fn check_is_clean(tree: &Tree) {
    let out = assert_cmd::Command::cargo_bin("codex-system-design")
        .unwrap()
        .arg("check")
        .arg(tree.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn online_boutique_runs_on_its_own_ports_probes_and_addresses() {
    let tree = Project::fixture("valid/online-boutique.yaml").generate();
    // The Service keeps the image's port; the container listens where the image does.
    assert_eq!(
        service_ports(&tree, "emailservice"),
        [("grpc".into(), 5000, "grpc".into(), "grpc".into())]
    );
    let email = container(&tree, "emailservice");
    assert_eq!(email["ports"][0]["containerPort"], 8080);
    assert_eq!(email["readinessProbe"]["grpc"]["port"], 8080);
    assert_eq!(
        service_ports(&tree, "frontend"),
        [("http".into(), 80, "http".into(), "http".into())]
    );
    let frontend = container(&tree, "frontend");
    assert_eq!(frontend["ports"][0]["containerPort"], 8080);
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        assert_eq!(frontend[probe]["httpGet"]["path"], "/_healthz", "{probe}");
        assert_eq!(frontend[probe]["httpGet"]["port"], "http", "{probe}");
    }
    assert_eq!(frontend["securityContext"]["runAsUser"], 1000);
    assert_eq!(frontend["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        frontend["securityContext"]["capabilities"]["drop"][0],
        "ALL"
    );
    // The names each image reads, with the callee's Service port.
    let env = config(&tree, "checkoutservice");
    assert_eq!(env["EMAIL_SERVICE_ADDR"], "emailservice:5000");
    assert_eq!(env["CART_SERVICE_ADDR"], "cartservice:7070");
    assert_eq!(env["PORT"], "5050");
    assert!(env.get("CART_URL").is_none() && env.get("GRPC_PORT").is_none());
    assert_eq!(
        config(&tree, "cartservice")["REDIS_ADDR"],
        "redis-cart:6379"
    );
    assert_eq!(
        config(&tree, "loadgenerator")["FRONTEND_ADDR"],
        "frontend:80"
    );
    // A tcp port is probed by a TCP connect; a port-less worker has no Service and no probe.
    let redis = container(&tree, "redis-cart");
    assert_eq!(redis["readinessProbe"]["tcpSocket"]["port"], "tcp-redis");
    assert_eq!(redis["volumeMounts"][1]["mountPath"], "/data");
    assert!(
        !tree
            .path()
            .join("deploy/k8s/base/loadgenerator/service.yaml")
            .exists()
    );
    let vs = docs(&tree, "deploy/istio/prod/virtual-services.yaml");
    let redis_vs = vs
        .iter()
        .find(|d| d["metadata"]["name"] == "redis-cart")
        .unwrap();
    assert!(
        redis_vs["spec"].get("http").is_none(),
        "a tcp port is routed as tcp"
    );
    assert_eq!(redis_vs["spec"]["tcp"][0]["route"][0]["weight"], 100);
    assert!(!vs.iter().any(|d| d["metadata"]["name"] == "loadgenerator"));
    let lg = container(&tree, "loadgenerator");
    assert!(lg.get("ports").is_none() && lg.get("readinessProbe").is_none());
    // The caller may reach the callee's container port; nothing else opens.
    let np = one(&tree, "deploy/k8s/base/checkoutservice/network-policy.yaml");
    let egress = serde_json::to_string(&np["spec"]["egress"]).unwrap();
    assert!(
        egress.contains("\"emailservice\"") && egress.contains("8080"),
        "{egress}"
    );
    let np = one(&tree, "deploy/k8s/base/emailservice/network-policy.yaml");
    let from = serde_json::to_string(&np["spec"]["ingress"]).unwrap();
    assert!(from.contains("checkoutservice"), "{from}");
    // compose has no Service in front: addresses name the container port.
    let c = compose(&tree);
    let checkout = &c["services"]["checkoutservice"];
    assert_eq!(
        checkout["environment"]["EMAIL_SERVICE_ADDR"],
        "emailservice:8080"
    );
    assert_eq!(checkout["user"], "1000:1000");
    assert!(
        checkout.get("depends_on").is_none(),
        "addresses under `env` do not order start-up"
    );
    assert_eq!(
        c["services"]["loadgenerator"]["environment"]["FRONTEND_ADDR"],
        "frontend:8080"
    );
    // Nothing to build or exercise through an API: no image job, the load test GETs the routes.
    let deploy = tree.read(".github/workflows/deploy.yml");
    assert!(!deploy.contains("  images:") && !deploy.contains("needs: images"));
    let locust = tree.read("tests/load/locustfile.py");
    assert!(locust.contains("def gateway_routes(self)") && locust.contains("for path in [\"/\"]:"));
    let nginx = tree.read("deploy/compose/gateway/nginx.conf");
    assert!(
        nginx.contains("proxy_pass http://frontend:8080;"),
        "{nginx}"
    );
    check_is_clean(&tree);
}

#[test]
fn every_part_of_an_image_contract_reaches_kubernetes_and_compose() {
    let tree = Project::fixture("valid/images-contract.yaml").generate();
    let web = container(&tree, "web");
    assert_eq!(web["startupProbe"]["tcpSocket"]["port"], "http");
    assert_eq!(web["livenessProbe"]["httpGet"]["port"], "admin");
    assert_eq!(web["readinessProbe"]["httpGet"]["path"], "/ready?full=1");
    assert_eq!(web["readinessProbe"]["httpGet"]["port"], "http");
    let sc = &web["securityContext"];
    assert_eq!(sc["runAsUser"], 0);
    assert_eq!(sc["runAsNonRoot"], false);
    assert_eq!(sc["readOnlyRootFilesystem"], false);
    assert_eq!(sc["capabilities"]["add"][0], "NET_BIND_SERVICE");
    // Each relaxed default names the checkov rule it breaks, with the blueprint's reason.
    let d = one(&tree, "deploy/k8s/base/web/deployment.yaml");
    let skips: Vec<String> = d["metadata"]["annotations"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v.as_str())
        .map(str::to_owned)
        .collect();
    for check in ["CKV_K8S_22", "CKV_K8S_23", "CKV_K8S_25", "CKV_K8S_40"] {
        assert!(
            skips.iter().any(|s| s.starts_with(&format!("{check}="))
                && s.contains("drops to its \"nginx\" user")),
            "{check}: {skips:?}"
        );
    }
    let claims = docs(&tree, "deploy/k8s/base/web/volume-claims.yaml");
    assert_eq!(claims[0]["spec"]["resources"]["requests"]["storage"], "2Gi");
    let kustomization = tree.read("deploy/k8s/base/web/kustomization.yaml");
    assert!(kustomization.contains("volume-claims.yaml"));
    // One pod mounts a ReadWriteOnce claim: one replica, replaced (not rolled), no autoscaler.
    assert_eq!(d["spec"]["replicas"], 1);
    assert_eq!(d["spec"]["strategy"]["type"], "Recreate");
    assert!(!kustomization.contains("autoscaling.yaml"));
    assert!(
        !tree
            .path()
            .join("deploy/k8s/base/web/autoscaling.yaml")
            .exists()
    );
    assert!(
        tree.path()
            .join("deploy/k8s/base/api/autoscaling.yaml")
            .exists()
    );
    let env = config(&tree, "web");
    assert_eq!(env["API_URL"], "http://api:8000");
    assert_eq!(env["API_GRPC"], "api:9000");
    assert_eq!(env["SESSION_STORE"], "redis://sessions:6379/0");
    assert_eq!(env["GREETING"], "it's \"quoted\" ${HOME} $(id) #x");
    assert_eq!(
        service_ports(&tree, "api"),
        [
            ("http".into(), 8000, "http".into(), "http".into()),
            ("grpc".into(), 9000, "grpc".into(), "grpc".into())
        ]
    );
    let api = container(&tree, "api");
    assert_eq!(api["command"][0], "/usr/local/bin/api");
    assert_eq!(api["args"][3], ":50051");
    // Kubernetes would expand `$(HOSTNAME)`: every `$` is doubled to stay literal.
    assert_eq!(api["args"][4], "--banner=$$(HOSTNAME) $$$$x");
    assert_eq!(api["livenessProbe"]["exec"]["command"][1], "-addr=:50051");
    assert_eq!(api["readinessProbe"]["grpc"]["port"], 50051);
    assert!(api.get("startupProbe").is_none());
    let relay = one(&tree, "deploy/k8s/base/metrics-relay/service.yaml");
    assert_eq!(relay["spec"]["ports"][0]["appProtocol"], "tcp");
    assert_eq!(config(&tree, "metrics-relay")["API_URL"], "http://api:8000");
    // Istio admits the callers on the container ports.
    let authz = tree.read("deploy/istio/prod/authorization-policies.yaml");
    assert!(
        authz.contains("\"50051\"") && !authz.contains("\"9000\""),
        "{authz}"
    );
    // compose: the container port, `$` kept literal, the scratch and persistent volumes.
    let c = compose(&tree);
    let w = &c["services"]["web"];
    assert_eq!(w["environment"]["API_GRPC"], "api:50051");
    assert_eq!(
        w["environment"]["GREETING"],
        "it's \"quoted\" $${HOME} $$(id) #x"
    );
    assert_eq!(w["read_only"], false);
    assert_eq!(w["tmpfs"][1], "/var/cache/nginx");
    assert_eq!(w["volumes"][0], "web-uploads:/srv/uploads");
    assert_eq!(w["cap_add"][0], "NET_BIND_SERVICE");
    assert!(c["volumes"].get("web-uploads").is_some());
    assert_eq!(c["services"]["api"]["entrypoint"][0], "/usr/local/bin/api");
    assert_eq!(c["services"]["api"]["command"][1], "0.0.0.0:8000");
    check_is_clean(&tree);
}

#[test]
fn an_image_that_declares_nothing_keeps_the_tool_contract() {
    let tree = Project::example("event-orders").generate();
    let rec = container(&tree, "recommendations");
    assert_eq!(rec["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(rec["securityContext"]["runAsUser"], 10001);
    assert_eq!(config(&tree, "recommendations")["PORT"], "9000");
    assert_eq!(
        config(&tree, "recommendations")["INVENTORY_URL"],
        "http://inventory:8080"
    );
}

#[test]
fn a_generated_caller_checks_an_image_with_its_own_probes_by_connecting() {
    let bp = "version: 1\nname: shop\nservices:\n  orders:\n    depends_on: [search, catalog]\n  search:\n    image: ghcr.io/acme/search:1.0\n    ports: [{ port: 9200 }]\n    probes: { http: /_cluster/health }\n  catalog:\n    image: ghcr.io/acme/catalog:1.0\n    port: 9000\n";
    let tree = Project::text(bp).generate();
    let health = tree.read("services/orders/app/health.py");
    assert!(
        health.contains("\"search\": (\"search_url\", \"tcp\")"),
        "{health}"
    );
    assert!(
        health.contains("\"catalog\": (\"catalog_url\", \"http\")"),
        "{health}"
    );
    assert!(health.contains("urlsplit(address if \"://\" in address else f\"//{address}\")"));
    assert_eq!(config(&tree, "orders")["SEARCH_URL"], "http://search:9200");
}
