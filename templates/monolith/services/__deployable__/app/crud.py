{% set svc = deployable %}{% include "common/_service/crud.py" %}
