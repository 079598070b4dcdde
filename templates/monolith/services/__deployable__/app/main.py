{% set svc = deployable %}{% include "common/_service/main.py" %}
