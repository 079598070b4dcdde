{{ header }}
"""Modules of {{ deployable.name.raw }}, one per service of the blueprint."""
