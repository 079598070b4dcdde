{% set svc = deployable %}{% include "common/_service/events.py" %}
