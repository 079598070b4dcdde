{{ header }}
# Values for the {{ env.name }} environment:
#   terraform plan -var-file=envs/{{ env.name }}.tfvars
environment          = "{{ env.name }}"
kubernetes_namespace = "{{ env.namespace }}"

tags = {
  Environment = "{{ env.name }}"
}
