{% set svc = service %}{% include "common/_service/tests/test_input.py" %}
