{#- The rule check of every app/auth.py (see _auth_rules.py). -#}
def require(rule: Rule) -> Any:
    """A dependency that lets a request through when `rule` allows its caller."""

    def check(who: Annotated[Caller | None, Depends(caller)]) -> Caller | None:
        if rule.kind == "public":
            return who
        if who is None:
            raise HTTPException(401, "authentication required", headers=CHALLENGE)
        if rule.kind == "role" and rule.role not in who.roles:
            raise HTTPException(403, f"role {rule.role} required")
        return who

    return check
