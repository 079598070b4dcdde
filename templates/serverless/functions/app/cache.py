{{ header }}
"""Cache-aside is not lowered to serverless functions yet: no route is given a cache prefix, so
the shared CRUD router never builds a RowCache here."""


class RowCache:
    """Refuses to be built: functions read their rows from the data store directly."""

    def __init__(self, prefix: str, ttl_seconds: int) -> None:
        raise RuntimeError("serverless functions have no row cache")
