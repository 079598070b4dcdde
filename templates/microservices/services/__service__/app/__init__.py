{{ header }}
"""The {{ service.name.raw }} service."""
