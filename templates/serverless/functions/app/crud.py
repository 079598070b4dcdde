{% set svc = m.services[0] %}{% include "common/_service/crud.py" %}
