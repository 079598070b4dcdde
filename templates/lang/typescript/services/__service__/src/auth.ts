{{ header }}
// Who is calling, and what they may do.
//
// A request's bearer token is a JWT checked with jose: its signature against the issuer's keys
// (AUTH_JWKS_URL, fetched and cached by createRemoteJWKSet), its issuer (AUTH_ISSUER),
// audience (AUTH_AUDIENCE) and expiry. The subject (`sub`) is the caller; the
// `{{ m.security.roles_claim }}` claim lists their roles. Routes declare a rule: public, any
// signed-in user, or a role. No token where one is needed is a 401, a token without the role a
// 403, the issuer's keys unreachable a 503.
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { Settings } from "./config.js";
import { HttpError } from "./errors.js";

export const ROLES_CLAIM = "{{ m.security.roles_claim }}";
export const ADMIN_ROLE = "{{ m.security.admin_role }}";
// Asymmetric algorithms only: a key from the JWKS never verifies an HMAC token.
const ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"];
const CHALLENGE = { "WWW-Authenticate": "Bearer" };

{% include "lang/typescript/_partials/caller.tera" %}
/** The issuer's signing keys, fetched on first use and cached (a new key id refetches). */
export function remoteKeys(config: Settings): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), {
    cacheMaxAge: 300_000,
    timeoutDuration: 5_000,
  });
}

export type Verifier = (token: string) => Promise<Caller>;

export function verifier(config: Settings, keys: JWTVerifyGetKey): Verifier {
  return async (token) => {
    let claims: Record<string, unknown>;
    try {
      const verified = await jwtVerify(token, keys, {
        algorithms: ALGORITHMS,
        issuer: config.AUTH_ISSUER,
        audience: config.AUTH_AUDIENCE,
        requiredClaims: ["exp", "iss", "aud", "sub"],
        clockTolerance: 30,
      });
      claims = verified.payload;
    } catch (err) {
      if (err instanceof errors.JOSEError && !(err instanceof errors.JWKSTimeout)) {
        throw new HttpError(401, `invalid token: ${err.message}`, CHALLENGE);
      }
      throw new HttpError(503, "identity provider unavailable");
    }
    const raw = claims[ROLES_CLAIM];
    const list = typeof raw === "string" ? raw.split(/\s+/) : Array.isArray(raw) ? raw : [];
    const roles = new Set(list.map(String));
    return { subject: String(claims.sub), roles, isAdmin: roles.has(ADMIN_ROLE) };
  };
}

/** The bearer token of an `Authorization` header, if any. */
export function bearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

/** The caller `rule` lets through (null for an anonymous call to a public route). */
export async function require(
  rule: Rule,
  header: string | undefined,
  verify: Verifier,
): Promise<Caller | null> {
  const token = bearer(header);
  const who = token === null ? null : await verify(token);
{% include "lang/typescript/_partials/rule_check.tera" %}}
