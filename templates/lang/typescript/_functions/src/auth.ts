{{ header }}
// Who is calling, and what they may do.
//
// The HTTP API's JWT authorizer has checked the caller's token (signature, issuer, audience and
// expiry) before the function runs; the function reads the claims it passed on in the event
// (`requestContext.authorizer.jwt.claims`), kept for the invocation by src/lambda.ts. The
// subject (`sub`) is the caller; the `{{ m.security.roles_claim }}` claim lists their roles. Routes declare a
// rule: public, any verified caller, or a role. No verified caller where one is needed is a 401,
// a caller without the role a 403.
import { AsyncLocalStorage } from "node:async_hooks";
import { HttpError } from "./errors.js";

export const ROLES_CLAIM = "{{ m.security.roles_claim }}";
export const ADMIN_ROLE = "{{ m.security.admin_role }}";
const CHALLENGE = { "WWW-Authenticate": "Bearer" };

{% include "lang/typescript/_partials/caller.tera" %}
export type Claims = Record<string, unknown>;

/** The verified caller of a request (its `Authorization` header given), or null. */
export type Verifier = (authorization: string | undefined) => Promise<Caller | null>;

/** The claims of the invocation being served (undefined: the route has no authorizer). */
export const invocationClaims = new AsyncLocalStorage<Claims | undefined>();

/** The roles claim as the authorizer passes it: a list, or a string such as `[a b]`. */
export function rolesOf(value: unknown): Set<string> {
  if (Array.isArray(value)) {
    return new Set(value.map(String));
  }
  if (typeof value === "string") {
    return new Set(value.replace(/^\[|\]$/g, "").replaceAll(",", " ").split(/\s+/).filter(Boolean));
  }
  return new Set();
}

/** The caller named by verified claims, or null when there are none. */
export function callerOf(claims: Claims | undefined): Caller | null {
  const subject = claims?.sub;
  if (typeof subject !== "string" || subject === "") {
    return null;
  }
  const roles = rolesOf(claims?.[ROLES_CLAIM]);
  return { subject, roles, isAdmin: roles.has(ADMIN_ROLE) };
}

/** In AWS: the caller is whoever the authorizer verified for this invocation. */
export const fromAuthorizer: Verifier = async () => callerOf(invocationClaims.getStore());

/** The caller `rule` lets through (null for an anonymous call to a public route). */
export async function require(
  rule: Rule,
  authorization: string | undefined,
  verify: Verifier,
): Promise<Caller | null> {
  const who = await verify(authorization);
{% include "lang/typescript/_partials/rule_check.tera" %}}
