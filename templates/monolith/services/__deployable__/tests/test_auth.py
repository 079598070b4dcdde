{% set svc = deployable %}{% include "common/_service/tests/test_auth.py" %}
