{{ header }}
# Partial backend configuration for the {{ env.name }} environment:
#   terraform init -backend-config=envs/{{ env.name }}.backend.hcl
bucket       = "{{ m.name.kebab }}-terraform-state-{{ env.name }}"
key          = "{{ m.name.kebab }}/{{ env.name }}/terraform.tfstate"
region       = {{ m.cloud.region | hcl }}
encrypt      = true
use_lockfile = true
