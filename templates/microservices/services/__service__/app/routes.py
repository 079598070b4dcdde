{% set svc = service %}{% include "common/_service/routes.py" %}
