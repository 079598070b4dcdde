variable "name" {
  description = "System name, the prefix of every resource name."
  type        = string
  default     = "{{ m.name.kebab }}"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be a lowercase DNS label of 2 to 31 characters."
  }
}

variable "environment" {
  description = "Deployment environment; one tfvars file per environment lives in envs/."
  type        = string

  validation {
    condition     = contains([{% for e in m.environments %}{{ e.name | quote }}{% if not loop.last %}, {% endif %}{% endfor %}], var.environment)
    error_message = "environment must be one of the blueprint's environments: {% for e in m.environments %}{{ e.name }}{% if not loop.last %}, {% endif %}{% endfor %}."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = {{ m.cloud.region | hcl }}

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}