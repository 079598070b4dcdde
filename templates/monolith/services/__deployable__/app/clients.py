{% set svc = deployable %}{% include "common/_service/clients.py" %}
