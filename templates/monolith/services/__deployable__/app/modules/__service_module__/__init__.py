{{ header }}
"""The {{ service.name.raw }} module of {{ m.deployables[0].name.raw }}: {{ service.description | py_doc }}."""
