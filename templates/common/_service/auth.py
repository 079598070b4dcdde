{{ header }}
"""Who is calling, and what they may do.

A request's bearer token is a JWT checked with PyJWT: its signature against the issuer's keys
(`AUTH_JWKS_URL`, fetched and cached by `jwt.PyJWKClient`), its issuer (`AUTH_ISSUER`),
audience (`AUTH_AUDIENCE`) and expiry. The subject (`sub`) is the caller; the `{{ m.security.roles_claim }}` claim
lists their roles. Routes declare a rule: `PUBLIC` (no token needed), `USER` (any valid token)
or `role(NAME)`. No token where one is needed is a 401, a token without the role a 403, the
issuer's keys unreachable a 503.{% if m.security.user_entity %} Rows that belong to a user (a reference to {{ m.security.user_entity }}) are
seen and changed by that user only; the `{{ m.security.admin_role }}` role sees and changes every row.{% endif %}
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Protocol

import jwt
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.config import get_settings

ROLES_CLAIM = "{{ m.security.roles_claim }}"
ADMIN_ROLE = "{{ m.security.admin_role }}"
# Asymmetric algorithms only: a key from the JWKS never verifies an HMAC token.
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
CHALLENGE = {"WWW-Authenticate": "Bearer"}


{% include "common/_service/_auth_rules.py" %}

class KeySource(Protocol):
    def get_signing_key_from_jwt(self, token: str) -> Any: ...


@lru_cache
def jwks() -> KeySource:
    """The issuer's signing keys, fetched on first use and cached (a new key id refetches)."""
    settings = get_settings()
    return jwt.PyJWKClient(settings.auth_jwks_url, lifespan=300, timeout=5)


def verify(token: str, keys: KeySource | None = None) -> Caller:
    """The caller a token names; HTTP 401 when it is not valid, 503 when the keys are out of
    reach."""
    settings = get_settings()
    try:
        key = (keys or jwks()).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=ALGORITHMS,
            audience=settings.auth_audience,
            issuer=settings.auth_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
            leeway=30,
        )
    except jwt.PyJWKClientConnectionError as exc:
        raise HTTPException(503, "identity provider unavailable") from exc
    except jwt.PyJWTError as exc:
        raise HTTPException(401, f"invalid token: {exc}", headers=CHALLENGE) from exc
    roles = claims.get(ROLES_CLAIM) or []
    if isinstance(roles, str):
        roles = roles.split()
    return Caller(str(claims["sub"]), frozenset(str(r) for r in roles))


bearer = HTTPBearer(auto_error=False)


def caller(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller | None:
    """The verified caller, or None for a request without a bearer token."""
    if credentials is None:
        return None
    return verify(credentials.credentials)


{% include "common/_service/_auth_require.py" %}