{% set svc = service %}{% include "common/_service/tests/test_auth.py" %}
