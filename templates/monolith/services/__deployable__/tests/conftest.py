{% set svc = deployable %}{% include "common/_service/tests/conftest.py" %}
