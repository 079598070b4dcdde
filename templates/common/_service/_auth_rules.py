{#- Shared by the services' app/auth.py and the serverless functions' (who is calling: the
    token check differs, the rules do not). -#}
@dataclass(frozen=True)
class Caller:
    """The verified subject of a request and their roles."""

    subject: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN_ROLE in self.roles


@dataclass(frozen=True)
class Rule:
    """Who may call a route: `public`, any signed-in `user`, or holders of `role`."""

    kind: str
    role: str | None = None


PUBLIC = Rule("public")
USER = Rule("user")


def role(name: str) -> Rule:
    return Rule("role", name)
