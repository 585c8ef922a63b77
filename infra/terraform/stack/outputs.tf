output "helm_values" {
  description = "Infrastructure values for every ShopMesh chart: tofu output -json helm_values > <env>-infra.json, then helm ... -f charts/values-<env>.yaml -f <env>-infra.json (the shape of charts/infra-example.yaml)."
  value = {
    image = { registry = module.ecr.registry }
    aws   = { region = var.region, accountId = local.account_id }
    daprEnv = merge(
      {
        AWS_REGION               = var.region
        AWS_ACCOUNT_ID           = local.account_id
        SHOPMESH_CART_REDIS_HOST = module.elasticache.primary_endpoint
        SHOPMESH_EMAIL_FROM      = var.email_from
      },
      local.kafka ? { SHOPMESH_MSK_BROKERS = module.msk[0].bootstrap_brokers_scram } : {},
      length(local.docdb_apps) > 0 ? { SHOPMESH_DOCDB_HOST = module.documentdb[0].endpoint } : {},
    )
    components = { alternatives = var.component_alternatives }
    # metricsNamespace: where the metrics collector runs (its scrapes of
    # /metrics and daprd's :9090 pass the apps' NetworkPolicies).
    networkPolicy = { albSourceCIDRs = module.network.public_subnet_cidrs, metricsNamespace = module.observability.metrics_namespace }
    ingress = {
      host           = local.api_origin_host
      certificateArn = module.cdn.origin_certificate_arn
      securityGroups = module.cdn.alb_security_group_id
    }
    services = merge(
      { for app in local.apps : app => { serviceAccount = { roleArn = module.service_roles[app].role_arn } } },
      {
        gateway = {
          serviceAccount = { roleArn = module.service_roles["gateway"].role_arn }
          # TRUSTED_PROXIES: X-Forwarded-For is believed from the ALB (public
          # subnets) and from the storefront's pods, which pass on the shopper's
          # address (the VPC CNI gives pods addresses of the nodes' private
          # subnets); the gateway's NetworkPolicy lets no other app reach its port.
          env = {
            REDIS_ADDR          = module.elasticache.primary_endpoint
            REDIS_TLS           = "true"
            REDIS_DB            = "1"
            TRUSTED_PROXIES     = join(",", concat(module.network.public_subnet_cidrs, module.network.private_subnet_cidrs))
            AUTH_ISSUER         = module.cognito.issuer
            AUTH_JWKS_URL       = "${module.cognito.issuer}/.well-known/jwks.json"
            AUTH_AUDIENCE       = module.cognito.client_id
            AUTH_AUDIENCE_CLAIM = "client_id"
            AUTH_ROLES_CLAIM    = "cognito:groups"
            AUTH_ALGORITHMS     = "RS256"
            AUTH_TOKEN_USE      = "access"
          }
          secretEnv = local.secret_env.gateway
        }
        users = {
          serviceAccount = { roleArn = module.service_roles["users"].role_arn }
          env = {
            IDENTITY_PROVIDER    = "cognito"
            COGNITO_USER_POOL_ID = module.cognito.user_pool_id
            COGNITO_CLIENT_ID    = module.cognito.client_id
          }
          secretEnv = local.secret_env.users
        }
        storefront = {
          serviceAccount = { roleArn = module.service_roles["storefront"].role_arn }
          env = {
            # The ALB's addresses: the storefront believes their X-Forwarded-For.
            STOREFRONT_TRUSTED_PROXIES = join(",", module.network.public_subnet_cidrs)
            # CloudFront sends the origin's Host; forms come from these.
            STOREFRONT_PUBLIC_HOSTS = "${var.domain},www.${var.domain}"
          }
        }
        search = {
          serviceAccount = { roleArn = module.service_roles["search"].role_arn }
          env = {
            SEARCH_BACKEND  = "opensearch"
            OPENSEARCH_URL  = module.opensearch.endpoint
            OPENSEARCH_AUTH = "sigv4"
          }
        }
      },
    )
  }
}

output "opensearch_endpoint" {
  description = "HTTPS endpoint of the OpenSearch domain, for the search app's configuration."
  value       = module.opensearch.endpoint
}

output "kafka_topics" {
  description = "Topics to create on MSK before the apps start (auto-creation is off): the business topics and their dead-letter topics."
  value       = local.kafka_topics
}

output "cluster_name" {
  description = "EKS cluster: aws eks update-kubeconfig --name <this>."
  value       = module.eks.cluster_name
}

output "assets_bucket" {
  description = "Bucket of the storefront's static assets and product images CloudFront serves under /static/ and /images/: go tool task deploy:assets ASSETS_BUCKET=<this>."
  value       = module.cdn.assets_bucket
}

output "dapr_version" {
  description = "The Dapr control plane (and sidecar) version installed."
  value       = module.cluster_addons.dapr_version
}

output "alarm_topic_arn" {
  description = "SNS topic of the CloudWatch alarms."
  value       = module.observability.alarm_topic_arn
}

output "collector_endpoints" {
  description = "The OpenTelemetry collector's OTLP endpoints (the address dapr/aws/config.yaml and the charts' tracing.otlpEndpoint name)."
  value       = module.observability.collector_endpoints
}

output "cloudwatch_dashboard" {
  description = "The CloudWatch dashboard of the environment (observability_backend aws; empty with datadog)."
  value       = module.observability.dashboard_name
}
