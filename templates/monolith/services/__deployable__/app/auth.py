{% set svc = deployable %}{% include "common/_service/auth.py" %}
