{% set svc = service %}{% include "common/_service/db.py" %}
