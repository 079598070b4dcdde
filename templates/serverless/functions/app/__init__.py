{{ header }}
"""{{ m.name.title }} functions: {{ m.description | py_doc }}."""
