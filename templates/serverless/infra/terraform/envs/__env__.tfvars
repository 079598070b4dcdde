{{ header }}
# Values for the {{ env.name }} environment:
#   terraform plan -var-file=envs/{{ env.name }}.tfvars
environment     = "{{ env.name }}"
artifact_bucket = "{{ m.name.kebab }}-artifacts-{{ env.name }}"

tags = {
  Environment = "{{ env.name }}"
}
