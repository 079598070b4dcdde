{% set svc = service %}{% include "common/_service/health.py" %}
