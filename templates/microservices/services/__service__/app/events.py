{% set svc = service %}{% include "common/_service/events.py" %}
