{% set svc = service %}{% include "common/_service/models.py" %}
