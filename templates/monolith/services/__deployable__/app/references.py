{% set svc = deployable %}{% include "common/_service/references.py" %}
