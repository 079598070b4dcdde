{%- set svc = service %}{{ header }}
// The Lambda functions of the {{ svc.name.raw }} service. scripts/bundle.mjs makes one module per
// function (dist/lambda/<function>.mjs) exporting it as `handler`: `<function>.handler` in the
// Terraform. Each lists exactly the variables Terraform sets for it.
import { {% if svc.ts.functions.has_http %}httpFunction{% if svc.ts.functions.has_queue %}, {% endif %}{% endif %}{% if svc.ts.functions.has_queue %}log, queueFunction{% endif %} } from "./lambda.js";
{%- for f in svc.ts.functions.functions %}
{%- if f.trigger == "http" %}

/** {{ f.name }}: the service's routes, from API Gateway's HTTP API. */
export const {{ f.module }} = httpFunction([{% for v in f.env %}"{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %}]);
{%- else %}

/** {{ f.name }}: events of topic `{{ f.topic }}` from its SQS queue. Put the business rule here. */
export const {{ f.module }} = queueFunction(
  {{ f.topic | json }},
  [{% for v in f.env %}"{{ v }}"{% if not loop.last %}, {% endif %}{% endfor %}],
  async (payload, id) => {
    log("INFO", "event received", { topic: {{ f.topic | json }}, id, fields: Object.keys(payload) });
  },
);
{%- endif %}
{%- endfor %}
