# Environment staging: production's shape (Multi-AZ databases and cache,
# three zones) at smaller sizes, one NAT gateway, no deletion protection; spot
# nodes for the non-critical services.
environment             = "staging"
region                  = "eu-west-1"
availability_zones      = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr                = "10.20.0.0/16"
domain                  = "staging.shop.example"
email_from              = "ShopMesh staging <no-reply@staging.shop.example>"
ses_identity_arns       = ["arn:aws:ses:eu-west-1:111122223333:identity/staging.shop.example"]
kubernetes_version      = "1.34"
eks_public_access_cidrs = ["203.0.113.0/24"]
protect                 = false
log_retention_days      = 30
enable_lattice          = false
component_alternatives  = []
cloudfront_price_class  = "PriceClass_100"

node_groups = {
  on_demand = { instance_types = ["m7i.large"], min_size = 3, max_size = 6, desired_size = 3 }
  spot      = { instance_types = ["m7i.large", "m6i.large", "m5.large"], min_size = 0, max_size = 3, desired_size = 0 }
}

# The daprd version the project builds and tests (local/daprd).
dapr_version = "1.17.5"
chart_versions = {
  cluster_autoscaler             = "9.52.1"
  aws_load_balancer_controller   = "1.14.1"
  secrets_store_csi_driver       = "1.5.4"
  secrets_store_csi_provider_aws = "2.1.0"
  gateway_api_controller         = "v1.1.4"
}

rds = {
  engine_version        = "16.8"
  instance_class        = "db.t4g.large"
  allocated_storage     = 50
  multi_az              = true
  read_replica          = false
  backup_retention_days = 7
}
documentdb  = { instance_class = "db.t4g.medium", instance_count = 2 }
opensearch  = { engine_version = "OpenSearch_2.19", instance_type = "t3.medium.search", instance_count = 2, zone_count = 2, volume_size = 20 }
elasticache = { node_type = "cache.t4g.small", replicas = 1 }
msk         = { kafka_version = "3.6.0", instance_type = "kafka.m7g.large", brokers_per_zone = 1, volume_size = 100, enhanced_monitoring = "PER_BROKER" }

waf = {
  rate_limit        = 2000
  blocked_countries = []
  blocked_ips       = []
  allowed_ips       = []
}

alarms = {
  emails              = ["oncall-staging@shop.example"]
  error_rate_percent  = 5
  latency_p99_seconds = 2
  lag_threshold       = 1000
}

# Observability (docs/deploy-aws.md, "Observability"): aws sends traces to
# X-Ray and the apps' metrics to CloudWatch (dashboard and alarms); datadog
# sends both to Datadog (set datadog = { site, api_key_secret } too).
observability_backend = "aws"

# The collectors. Tail sampling keeps every trace with an error, every
# trace slower than slow_trace_ms and keep_percent of the others. Two
# collectors of each tier (a rollout keeps one serving), a quarter of the
# ordinary traces.
collector = {
  chart_version    = "0.127.2"
  adot_version     = "v0.45.1"
  contrib_version  = "0.139.0"
  gateway_replicas = 2
  sampler_replicas = 2
  slow_trace_ms    = 2000
  keep_percent     = 25
}
