{{ header }}
"""Code of each service, shared by its functions."""
