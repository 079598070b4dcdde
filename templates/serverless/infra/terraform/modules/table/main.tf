{{ header }}
locals {
  all_indexes    = distinct(concat([for k in var.unique_keys : [k]], var.indexes))
  indexes        = { for i in local.all_indexes : join("-", i) => i }
  key_attributes = distinct(concat([var.hash_key], flatten(local.all_indexes)))
}

resource "aws_dynamodb_table" "this" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = var.hash_key
  deletion_protection_enabled = true

  dynamic "attribute" {
    for_each = local.key_attributes
    content {
      name = attribute.value
      type = var.attribute_types[attribute.value]
    }
  }

  dynamic "global_secondary_index" {
    for_each = local.indexes
    content {
      name            = "${global_secondary_index.key}-index"
      hash_key        = global_secondary_index.value[0]
      range_key       = length(global_secondary_index.value) > 1 ? global_secondary_index.value[1] : null
      projection_type = "ALL"
    }
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }
}
