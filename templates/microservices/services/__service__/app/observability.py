{% set svc = service %}{% include "common/_service/observability.py" %}
