{{ header }}
"""{{ deployable.name.title }}: {{ m.description }} (one app, a module per service)."""
