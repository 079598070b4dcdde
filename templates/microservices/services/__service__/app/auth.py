{% set svc = service %}{% include "common/_service/auth.py" %}
