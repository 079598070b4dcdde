{% set svc = deployable %}{% include "common/_service/observability.py" %}
