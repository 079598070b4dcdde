//! Languages of generated services. The core model (`data`, `services`) says what a service
//! does; each language lowers it into the view its templates print: [`python`] fills the
//! `code` fields (they also carry the API paths, access rules and clients every language
//! reads), [`typescript`] the `ts` view of its services. A language is one module here plus
//! its templates (`templates/lang/<language>/`; Python's are the `services/__service__`
//! trees of each type), chosen per service by `crate::plan`.

pub mod grpc;
pub mod python;
pub mod typescript;

use super::data::Entity;
use super::services::Service;

pub const PYTHON: &str = "python";
pub const TYPESCRIPT: &str = crate::blueprint::schema::TYPESCRIPT;
/// Every language a service may be written in (`language:`), as validation accepts them.
pub const ALL: &[&str] = crate::blueprint::schema::LANGUAGES;

/// The language-specific views of the services that are not Python (Python's `code` is filled
/// in before, for every service: the other languages read its language-neutral parts).
pub fn lower(services: &mut [Service], entities: &[Entity]) {
    for s in services.iter_mut() {
        s.code.grpc = grpc::grpc(s, entities);
    }
    typescript::lower(services, entities);
}

/// The same for the workloads a type makes of the services: a monolith's one app gets the view
/// of its modules' language, with the modules it is made of.
pub fn lower_apps(apps: &mut [Service], services: &[Service], entities: &[Entity]) {
    typescript::lower(apps, entities);
    typescript::link_modules(apps, services);
}
