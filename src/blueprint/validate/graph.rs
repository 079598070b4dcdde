//! Services and the graph between them: `depends_on` (unknown, self, repeated, cycles), gateway
//! routes (unknown target, a target that serves no HTTP, paths, at most one gateway), and the environment variables a
//! dependency becomes (`ORDERS_URL`), which must not collide with the ones every service gets.

use super::{Check, names};
use crate::blueprint::{Broker, Service, ServiceKind};
use heck::ToShoutySnakeCase;
use std::collections::{BTreeMap, BTreeSet};

/// Most cycles reported in one run; each is printed whole.
const MAX_CYCLES: usize = 20;

/// A gateway route prefix: `/`, then segments of URL-safe characters (RFC 3986 unreserved), no
/// empty, `.` or `..` segment. It lands in nginx, Terraform, Istio and Python as a plain token.
pub fn is_route_path(p: &str) -> bool {
    let Some(rest) = p.strip_prefix('/') else {
        return false;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    p.len() <= 200
        && (rest.is_empty()
            || rest.split('/').all(|seg| {
                !seg.is_empty()
                    && seg != "."
                    && seg != ".."
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
            }))
}

impl Check<'_> {
    pub(super) fn services_and_routes(&mut self) {
        let bp = self.bp;
        let service_names = names(&bp.services);
        for (name, s) in &bp.services {
            let p = format!("services.{name}");
            for (i, dep) in s.depends_on.iter().enumerate() {
                let dp = format!("{p}.depends_on[{i}]");
                if dep == name {
                    self.err(
                        "E0111",
                        dp,
                        format!("service `{name}` depends on itself"),
                        "remove it from `depends_on`".into(),
                    );
                } else if !bp.services.contains_key(dep) {
                    let help = self.hint(dep, &service_names, "services");
                    self.err(
                        "E0110",
                        dp,
                        format!("service `{name}` depends on unknown service `{dep}`"),
                        help,
                    );
                }
            }
            self.duplicates(
                &format!("{p}.depends_on"),
                &s.depends_on,
                "E0114",
                "service",
            );
            self.env_collisions(name, s);
            self.routes(name, s);
        }
        self.one_gateway();
    }

    /// One edge per system: the ingress host, the Istio Gateway and the local nginx all stand for
    /// one gateway, so a second one would be dropped; it is refused instead.
    fn one_gateway(&mut self) {
        let mut gateways = self
            .bp
            .services
            .iter()
            .filter(|(_, s)| s.kind == ServiceKind::Gateway)
            .map(|(n, _)| n);
        let Some(first) = gateways.next() else {
            return;
        };
        for other in gateways {
            self.err_key(
                "E0115",
                format!("services.{other}"),
                format!("a second gateway `{other}`: `{first}` is already the system's gateway"),
                format!("move the routes of `{other}` to `{first}` and remove `{other}`, or make it an api service"),
            );
        }
    }

    fn routes(&mut self, name: &str, s: &Service) {
        let bp = self.bp;
        let p = format!("services.{name}");
        if !s.routes.is_empty() && s.kind != ServiceKind::Gateway {
            self.err_key(
                "E0106",
                format!("{p}.routes"),
                format!("service `{name}` has routes but is not a gateway"),
                "add `kind: gateway` or move the routes to the gateway service".into(),
            );
        }
        let mut paths: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, r) in s.routes.iter().enumerate() {
            let to_written = self.src.value(&format!("{p}.routes[{i}].to"))
                != self.src.value(&format!("{p}.routes[{i}]"));
            match bp.services.get(&r.to) {
                _ if r.to.is_empty() && !to_written => {} // missing `to`: E0004
                None => {
                    let help = self.hint(&r.to, &names(&bp.services), "services");
                    self.err(
                        "E0110",
                        format!("{p}.routes[{i}].to"),
                        format!(
                            "route `{}` of `{name}` goes to unknown service `{}`",
                            r.path, r.to
                        ),
                        help,
                    );
                }
                Some(target) if !target.serves_http() => self.err(
                    "E0113",
                    format!("{p}.routes[{i}].to"),
                    format!(
                        "route `{}` of `{name}` goes to `{}`, which serves no HTTP",
                        r.path, r.to
                    ),
                    "route to an api service with `protocol: http` (workers and grpc-only services have no HTTP endpoint)".into(),
                ),
                Some(_) => {}
            }
            if !is_route_path(&r.path) {
                self.err(
                    "E0105",
                    format!("{p}.routes[{i}].path"),
                    format!(
                        "route path `{}` must start with `/` and hold only letters, digits, `/`, `-`, `_`, `.` and `~`",
                        r.path
                    ),
                    "write it as `/api/...` (a path prefix: no spaces, quotes, `$`, `{`, `%` or query string)".into(),
                );
            }
            let normalized = r.path.trim_end_matches('/');
            if let Some(first) = paths.get(normalized) {
                self.err(
                    "E0107",
                    format!("{p}.routes[{i}].path"),
                    format!(
                        "route path `{}` is already routed by `routes[{first}]`",
                        r.path
                    ),
                    "each path prefix goes to one service; remove or change one of the routes"
                        .into(),
                );
            } else {
                paths.insert(normalized, i);
            }
        }
    }

    /// A dependency on `database` becomes `DATABASE_URL`, which the service's own database
    /// connection already uses.
    fn env_collisions(&mut self, name: &str, s: &Service) {
        let bp = self.bp;
        let mut taken: BTreeMap<String, String> = BTreeMap::new();
        if s.database.is_some() {
            taken.insert("DATABASE_URL".into(), "its database".into());
        }
        if s.cache.is_some() {
            taken.insert("REDIS_URL".into(), "its cache".into());
        }
        if let Some(m) = &bp.messaging
            && (!s.publishes.is_empty() || !s.consumes.is_empty())
        {
            let var = match m.broker {
                Broker::Kafka => "KAFKA_BOOTSTRAP_SERVERS",
                Broker::Rabbitmq => "AMQP_HOST",
                Broker::Sqs => "SQS_ENDPOINT_URL",
            };
            taken.insert(var.into(), "its message broker".into());
        }
        let mut seen = BTreeSet::new();
        for (i, dep) in s.depends_on.iter().enumerate() {
            let Some(d) = bp.services.get(dep) else {
                continue;
            };
            if !seen.insert(dep.as_str()) {
                continue; // a repeated entry is E0114, not a collision with itself
            }
            let var = d.address_var(&dep.to_shouty_snake_case());
            if let Some(owner) = taken.get(&var) {
                self.err(
                    "E0108",
                    format!("services.{name}.depends_on[{i}]"),
                    format!(
                        "the address of `{dep}` would be passed to `{name}` as `{var}`, which already holds {owner}"
                    ),
                    format!("rename the service `{dep}`"),
                );
            } else {
                taken.insert(var, format!("the address of `{dep}`"));
            }
        }
    }

    /// Every dependency cycle, each printed whole (`a → b → c → a`), found by a depth-first walk
    /// with an explicit stack (no recursion: 10 000 services in a chain are fine).
    pub(super) fn dependency_cycles(&mut self) {
        let bp = self.bp;
        let mut state: Vec<u8> = vec![0; bp.services.len()]; // 0 new, 1 on stack, 2 done
        let mut reported: BTreeSet<Vec<usize>> = BTreeSet::new();
        let deps_of = |i: usize| -> Vec<usize> {
            bp.services[i]
                .depends_on
                .iter()
                .filter_map(|d| bp.services.get_index_of(d))
                .collect()
        };
        for start in 0..bp.services.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, Vec<usize>, usize)> = vec![(start, deps_of(start), 0)];
            state[start] = 1;
            while let Some((node, deps, idx)) = stack.last_mut() {
                let node = *node;
                if *idx >= deps.len() {
                    state[node] = 2;
                    stack.pop();
                    continue;
                }
                let next = deps[*idx];
                *idx += 1;
                if next == node {
                    continue; // self-dependency: E0111
                }
                match state[next] {
                    1 if reported.len() < MAX_CYCLES => {
                        let from = stack.iter().position(|(n, _, _)| *n == next).unwrap_or(0);
                        let cycle: Vec<usize> = stack[from..].iter().map(|(n, _, _)| *n).collect();
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if reported.insert(key) {
                            self.report_cycle(&cycle, next);
                        }
                    }
                    0 => {
                        state[next] = 1;
                        stack.push((next, deps_of(next), 0));
                    }
                    _ => {}
                }
            }
        }
    }

    fn report_cycle(&mut self, cycle: &[usize], closing: usize) {
        let bp = self.bp;
        let name = |i: usize| bp.services.get_index(i).map_or("", |(n, _)| n.as_str());
        let last = *cycle.last().unwrap_or(&closing);
        let target = name(closing);
        let at = bp.services[last]
            .depends_on
            .iter()
            .position(|d| d == target)
            .unwrap_or(0);
        let mut path: Vec<&str> = cycle.iter().map(|i| name(*i)).collect();
        path.push(target);
        let loop_ = path.join(" → ");
        // An existing image's `depends_on` is configuration (an address and a start-up order),
        // not a call this tool generates, so "use an event" is no advice for it.
        let images: Vec<&str> = cycle
            .iter()
            .map(|i| name(*i))
            .filter(|n| bp.services[*n].image.is_some())
            .collect();
        let help = match images.first() {
            None => format!(
                "synchronous calls must not loop ({loop_}); break the cycle with an event (publishes/consumes)"
            ),
            Some(img) => format!(
                "`depends_on` also orders start-up, which cannot loop ({loop_}); `{img}` is an existing image, so give it the address it needs under `env` instead (`NAME: {{ service: ... }}`), which passes the address without a start-up order"
            ),
        };
        self.err(
            "E0112",
            format!("services.{}.depends_on[{at}]", name(last)),
            format!("dependency cycle: {loop_}"),
            help,
        );
    }
}
