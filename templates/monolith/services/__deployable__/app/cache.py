{% set svc = deployable %}{% include "common/_service/cache.py" %}
