{% set svc = service %}{% include "common/_service/schemas.py" %}
