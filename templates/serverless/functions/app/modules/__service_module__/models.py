{% set svc = service %}{% if m.serverless.data_store == "dynamodb" %}{% include "serverless/_dynamodb/models.py" %}{% else %}{% include "common/_service/models.py" %}{% endif %}
