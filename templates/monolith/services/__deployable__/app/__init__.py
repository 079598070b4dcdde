{{ header }}
"""{{ deployable.name.title }}: {{ m.description | py_doc }} (one app, a module per service)."""
