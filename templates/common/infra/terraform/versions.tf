{{ header }}
terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # Remote state in S3 with native locking. The bucket, key and region come from
  # envs/<environment>.backend.hcl: terraform init -backend-config=envs/dev.backend.hcl
  backend "s3" {}
}
