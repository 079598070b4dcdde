{% set svc = service %}{% include "common/_service/tests/conftest.py" %}
