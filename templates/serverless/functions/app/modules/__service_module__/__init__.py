{{ header }}
"""The {{ service.name.raw }} service: {{ service.description | py_doc }}."""
