{% set svc = service %}{% include "common/_service/crud.py" %}
