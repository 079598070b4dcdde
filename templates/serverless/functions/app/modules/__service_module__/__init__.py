{{ header }}
"""The {{ service.name.raw }} service: {{ service.description }}."""
