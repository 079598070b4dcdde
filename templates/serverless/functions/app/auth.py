{{ header }}
"""Who is calling, and what they may do.

The HTTP API's JWT authorizer has checked the caller's token (signature, issuer, audience and
expiry) before the function runs; the function reads the claims it passed on in the event
(`requestContext.authorizer.jwt.claims`). The subject (`sub`) is the caller; the
`{{ m.security.roles_claim }}` claim lists their roles. Routes declare a rule: `PUBLIC`, `USER`
(any verified caller) or `role(NAME)`. No verified caller where one is needed is a 401, a caller
without the role a 403.{% if m.security.user_entity %} Rows that belong to a user (a reference to {{ m.security.user_entity }}) are
seen and changed by that user only; the `{{ m.security.admin_role }}` role sees and changes every row.{% endif %}
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

ROLES_CLAIM = "{{ m.security.roles_claim }}"
ADMIN_ROLE = "{{ m.security.admin_role }}"
CHALLENGE = {"WWW-Authenticate": "Bearer"}


{% include "common/_service/_auth_rules.py" %}

def roles_of(value: Any) -> frozenset[str]:
    """The roles claim as the authorizer passes it: a list, or a string such as `[a b]`."""
    if isinstance(value, list):
        return frozenset(str(r) for r in value)
    if isinstance(value, str):
        return frozenset(value.strip("[]").replace(",", " ").split())
    return frozenset()


def caller(request: Request) -> Caller | None:
    """The caller the authorizer verified, or None when the event carries no claims."""
    event = request.scope.get("aws.event") or {}
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or {}
    subject = claims.get("sub")
    if not subject:
        return None
    return Caller(str(subject), roles_of(claims.get(ROLES_CLAIM)))


{% include "common/_service/_auth_require.py" %}