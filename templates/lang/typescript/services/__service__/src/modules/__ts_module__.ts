{%- set svc = service %}{{ header }}
// The {{ svc.name.raw }} module of the app: the entities the {{ svc.name.raw }} service owns, as the
// CRUD routes serve them (src/entities.ts lists every module's).
import type { EntitySpec } from "../entities.js";
{%- include "lang/typescript/_partials/entity_specs.tera" %}
