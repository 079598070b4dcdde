{{ header }}
"""{{ m.name.title }} functions: {{ m.description }}."""
