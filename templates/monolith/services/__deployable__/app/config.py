{% set svc = deployable %}{% include "common/_service/config.py" %}
