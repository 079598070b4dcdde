use super::answers::Answers;
use super::ask::ask;
use super::prompt::Defaults;
use super::prompt::scripted::{Reply::*, Script};
use super::yaml;
use crate::blueprint::{self, ArchType, Broker, ServiceKind};

fn load(a: &Answers) -> blueprint::Blueprint {
    let text = yaml::blueprint(a).unwrap();
    let loaded = blueprint::load(&text, "blueprint.yaml");
    assert!(
        !loaded.diagnostics.has_errors(),
        "{text}\n{:#?}",
        loaded.diagnostics.items
    );
    loaded.blueprint.unwrap()
}

#[test]
fn pressing_enter_everywhere_gives_the_yes_answers_and_a_clean_blueprint() {
    let mut script = Script::new([]);
    let entered = ask(&mut script, &Answers::default()).unwrap();
    let yes = ask(&mut Defaults, &Answers::default()).unwrap();
    assert_eq!(entered, yes);
    assert!(script.rejected.is_empty());
    let text = yaml::blueprint(&yes).unwrap();
    let loaded = blueprint::load(&text, "blueprint.yaml");
    // Notes are advice (N0193: name your identity issuer before deploying), not problems.
    assert_eq!(
        loaded.diagnostics.error_count() + loaded.diagnostics.warning_count(),
        0,
        "{:?}",
        loaded.diagnostics.items
    );
    let bp = loaded.blueprint.unwrap();
    assert_eq!(bp.name, "my-system");
    assert_eq!(bp.services.keys().collect::<Vec<_>>(), ["api"]);
    assert!(bp.mesh.enabled);
    assert_eq!(bp.entities["Item"].fields["id"], "uuid pk");
}

#[test]
fn a_scripted_session_builds_services_entities_events_and_routes() {
    let mut script = Script::new([
        Text("Bad_Name"), // refused: not a DNS label
        Text("shop"),
        Text("Online shop"),
        Default,   // microservices
        Select(0), // small
        Default,   // start empty
        // service 1: users
        Text("users"),
        Default, // api
        Default, // python
        Default, // http
        Default, // new database
        Default, // users-db
        Default, // no cache
        Default, // entity Item? no: `User`
        Default,
        Text("email: string(255) unique"),
        Text("price: decimal(2,5)"), // refused: scale larger than precision
        Default,                     // done with fields
        Default,                     // no more entities
        Text("user.registered"),
        Default, // consumes nothing
        Yes,     // another service
        // service 2: orders
        Text("users"), // refused: taken
        Text("orders"),
        Default,
        Default,
        Select(2), // http + grpc
        Default,   // new database
        Default,   // orders-db
        Select(0), // new cache
        Text("sessions"),
        Text("Order"),
        Default, // id: uuid pk
        Text("user_id: ref User"),
        Text("status: enum(pending, paid) default pending"),
        Default, // fields done
        Default, // entities done
        Pick(vec![0]),
        Text("order.created"),
        Default,
        Yes,
        // service 3: notifications (worker)
        Text("notifications"),
        Select(1), // worker
        Default,   // code
        Default,   // database: none for a worker
        Default,   // cache none
        Default,   // depends_on nothing
        Default,   // publishes nothing
        Text("user.registered, order.created"),
        Yes,
        // service 4: gateway
        Text("edge"),
        Select(2),
        No,        // no more services
        Default,   // routes: all api services
        Select(1), // rabbitmq
        No,        // no mesh
        Default,   // github
    ]);
    // The entity-name default is `Item`; replace the placeholder replies for users' entity.
    script.replies[13] = Text("User");
    script.replies[14] = Default; // id: uuid pk
    let a = ask(&mut script, &Answers::default()).unwrap();
    assert!(
        script.replies.is_empty(),
        "unused replies: {:?}",
        script.replies
    );
    let rejected: Vec<&str> = script.rejected.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(rejected, ["Bad_Name", "price: decimal(2,5)", "users"]);

    let bp = load(&a);
    assert_eq!(bp.name, "shop");
    assert_eq!(bp.description, "Online shop");
    assert_eq!(bp.scale, blueprint::Scale::Small);
    let names: Vec<&str> = bp.services.keys().map(String::as_str).collect();
    assert_eq!(names, ["users", "orders", "notifications", "edge"]);
    let orders = &bp.services["orders"];
    assert_eq!(orders.depends_on, ["users"]);
    assert_eq!(orders.protocols.len(), 2);
    assert_eq!(orders.cache.as_deref(), Some("sessions"));
    assert_eq!(orders.database.as_deref(), Some("orders-db"));
    assert_eq!(bp.services["notifications"].kind, ServiceKind::Worker);
    assert_eq!(
        bp.services["notifications"].consumes,
        ["user.registered", "order.created"]
    );
    let routes: Vec<&str> = bp.services["edge"]
        .routes
        .iter()
        .map(|r| r.to.as_str())
        .collect();
    assert_eq!(routes, ["users", "orders"]);
    assert_eq!(bp.entities["User"].fields["email"], "string(255) unique");
    assert_eq!(
        bp.entities["Order"].fields["status"],
        "enum(pending, paid) default pending"
    );
    assert_eq!(bp.messaging.as_ref().unwrap().broker, Broker::Rabbitmq);
    assert!(!bp.mesh.enabled);
    assert!(bp.ingress.is_some());
}

#[test]
fn an_entity_left_without_a_key_gets_id_uuid_pk() {
    let mut script = Script::new([
        Default,
        Default,
        Default,
        Default,
        Default, // name .. start
        Default,
        Default,
        Default,
        Default,
        Default,
        Default,
        Default,                   // service api .. cache
        Default,                   // entity Item
        Text("title: string(80)"), // first field replaces the id default
        Default,
    ]);
    let a = ask(&mut script, &Answers::default()).unwrap();
    let fields: Vec<(&String, &String)> = a.services[0].entities[0].fields.iter().collect();
    assert_eq!(fields[0], (&"id".to_owned(), &"uuid pk".to_owned()));
    assert_eq!(fields[1].0, "title");
    load(&a);
}

#[test]
fn serverless_skips_protocol_and_monolith_skips_mesh() {
    for (arch, skipped) in [
        (1, "Protocol of `api`"),
        (2, "Istio service mesh with strict mTLS?"),
    ] {
        let mut script = Script::new([Default, Default, Select(arch)]);
        let a = ask(&mut script, &Answers::default()).unwrap();
        assert!(
            !script.asked.iter().any(|q| q == skipped),
            "{:?}",
            script.asked
        );
        let bp = load(&a);
        assert_ne!(bp.arch, ArchType::Microservices);
    }
}

#[test]
fn starting_from_an_example_skips_the_service_questions() {
    let seed = Answers {
        example: Some("ecommerce".into()),
        ..Answers::default()
    };
    let mut script = Script::new([Text("store")]);
    let a = ask(&mut script, &seed).unwrap();
    assert_eq!(a.example.as_deref(), Some("ecommerce"));
    assert!(!script.asked.iter().any(|q| q.starts_with("Service")));
    let bp = load(&a);
    assert_eq!(bp.name, "store");
    assert!(bp.services.contains_key("payments"));
}

#[test]
fn summary_lists_services_and_output() {
    let bp = load(&ask(&mut Defaults, &Answers::default()).unwrap());
    let s = super::summary(&bp, std::path::Path::new("my-system"), Some(12));
    assert!(
        s.contains("api              api; python; http; database api-db; entities Item"),
        "{s}"
    );
    assert!(
        s.contains("my-system: blueprint.yaml + 12 generated files"),
        "{s}"
    );
}

#[test]
fn the_answers_example_in_init_help_is_valid() {
    let yaml: String = super::INIT_HELP
        .lines()
        .skip_while(|l| !l.starts_with("  name:"))
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{}\n", &l[2..]))
        .collect();
    let a = super::answers::parse(&yaml).unwrap();
    assert!(
        super::answers::check(&a).is_empty(),
        "{:?}",
        super::answers::check(&a)
    );
    let bp = load(&a);
    assert_eq!(bp.services["mailer"].consumes, ["user.registered"]);
    assert_eq!(bp.entities["User"].fields["email"], "string(255) unique");
}

#[test]
fn services_can_be_added_to_an_example_and_use_its_names() {
    let seed = Answers {
        example: Some("ecommerce".into()),
        ..Answers::default()
    };
    let mut script = Script::new([
        Text("store"),
        Default,       // description
        Default,       // type
        Default,       // scale
        Default,       // start: the seeded example
        Yes,           // add services
        Text("users"), // refused: the example has it
        Text("reviews"),
        Default,   // api
        Default,   // code
        Default,   // http
        Default,   // new database
        Default,   // reviews-db
        Select(1), // existing cache: sessions
        Text("Review"),
        Default,                         // id: uuid pk
        Text("product_id: ref Product"), // an entity of the example
        Default,
        Default,
        Pick(vec![2]), // calls products
        Text("review.posted"),
        Text("order.created"),
        No, // no more services
    ]);
    let a = ask(&mut script, &seed).unwrap();
    let rejected: Vec<&str> = script.rejected.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(rejected, ["users"]);
    let names: Vec<&str> = a.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["reviews"], "only the new services are answers");
    let bp = load(&a);
    assert_eq!(bp.name, "store");
    assert!(bp.services.contains_key("payments"));
    let reviews = &bp.services["reviews"];
    assert_eq!(reviews.depends_on, ["products"]);
    assert_eq!(reviews.cache.as_deref(), Some("sessions"));
    assert_eq!(bp.entities["Review"].fields["product_id"], "ref Product");
    assert!(bp.messaging.unwrap().topics.contains_key("review.posted"));
}

#[test]
fn a_typescript_service_is_offered_in_microservices_and_skips_what_it_lacks() {
    // name, description, microservices, scale, start empty, service name, kind api, typescript
    let mut script = Script::new([
        Default,
        Default,
        Default,
        Default,
        Default,
        Default,
        Default,
        Select(2),
    ]);
    let a = ask(&mut script, &Answers::default()).unwrap();
    let s = &a.services[0];
    assert_eq!(s.language, "typescript");
    let name = &s.name;
    for skipped in [
        format!("Protocol of `{name}`"),
        format!("Events `{name}` publishes"),
    ] {
        assert!(
            !script.asked.iter().any(|q| q.starts_with(&skipped)),
            "{skipped}: {:?}",
            script.asked
        );
    }
    let bp = load(&a);
    assert_eq!(
        bp.services[name.as_str()].language.as_deref(),
        Some("typescript")
    );
}
