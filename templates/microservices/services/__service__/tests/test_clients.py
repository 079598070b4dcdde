{% set svc = service %}{% include "common/_service/tests/test_clients.py" %}
