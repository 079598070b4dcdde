{% set svc = service %}{% include "common/_service/clients.py" %}
