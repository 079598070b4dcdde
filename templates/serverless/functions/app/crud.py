{% if m.serverless.data_store == "dynamodb" %}{% include "serverless/_dynamodb/crud.py" %}{% else %}{% set svc = m.services[0] %}{% include "common/_service/crud.py" %}{% endif %}
