{% set svc = service %}{% include "common/_service/cache.py" %}
