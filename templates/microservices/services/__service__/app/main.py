{% set svc = service %}{% include "common/_service/main.py" %}
