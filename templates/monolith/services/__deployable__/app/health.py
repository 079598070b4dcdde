{% set svc = deployable %}{% include "common/_service/health.py" %}
