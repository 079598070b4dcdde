{{ header }}
data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_iam_policy_document" "key" {
  # In a key policy the resource "*" is the key itself.
  #checkov:skip=CKV_AWS_109:key policy; resource "*" is the key the policy is attached to
  #checkov:skip=CKV_AWS_111:key policy; resource "*" is the key the policy is attached to
  #checkov:skip=CKV_AWS_356:key policy; resource "*" is the key the policy is attached to
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "AwsServices"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = concat(["logs.${var.region}.amazonaws.com"], var.service_principals)
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name} encryption key for data at rest and logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
