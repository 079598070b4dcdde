{% set svc = deployable %}{% include "common/_service/db.py" %}
