{% set svc = service %}{% include "common/_service/config.py" %}
