{% set svc = service %}{% include "common/_service/references.py" %}
