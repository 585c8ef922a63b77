# Environment prod: three zones for everything, Multi-AZ databases with a read
# replica, three MSK brokers with per-topic metrics (consumer-lag alarms),
# deletion protection, an on-demand group for the checkout path and a spot
# group for the rest, the Dapr control plane in HA mode.
environment             = "prod"
region                  = "eu-west-1"
availability_zones      = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
vpc_cidr                = "10.30.0.0/16"
domain                  = "shop.example"
email_from              = "ShopMesh <no-reply@shop.example>"
ses_identity_arns       = ["arn:aws:ses:eu-west-1:111122223333:identity/shop.example"]
kubernetes_version      = "1.34"
eks_public_access_cidrs = []
protect                 = true
log_retention_days      = 90
enable_lattice          = false
component_alternatives  = []
cloudfront_price_class  = "PriceClass_All"

node_groups = {
  on_demand = { instance_types = ["m7i.xlarge"], min_size = 3, max_size = 12, desired_size = 3 }
  spot      = { instance_types = ["m7i.xlarge", "m6i.xlarge", "m5.xlarge", "m7a.xlarge"], min_size = 0, max_size = 9, desired_size = 0 }
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
  instance_class        = "db.r7g.large"
  allocated_storage     = 100
  multi_az              = true
  read_replica          = true
  backup_retention_days = 30
}
documentdb  = { instance_class = "db.r6g.large", instance_count = 3 }
opensearch  = { engine_version = "OpenSearch_2.19", instance_type = "r7g.large.search", instance_count = 3, zone_count = 3, volume_size = 100 }
elasticache = { node_type = "cache.r7g.large", replicas = 2 }
msk         = { kafka_version = "3.6.0", instance_type = "kafka.m7g.large", brokers_per_zone = 1, volume_size = 500, enhanced_monitoring = "PER_TOPIC_PER_PARTITION" }

waf = {
  rate_limit        = 2000
  blocked_countries = []
  blocked_ips       = []
  allowed_ips       = []
}

alarms = {
  emails              = ["oncall@shop.example"]
  error_rate_percent  = 2
  latency_p99_seconds = 1
  lag_threshold       = 500
}

# Observability (docs/deploy-aws.md, "Observability"): aws sends traces to
# X-Ray and the apps' metrics to CloudWatch (dashboard and alarms); datadog
# sends both to Datadog (set datadog = { site, api_key_secret } too).
observability_backend = "aws"

# The collectors. Tail sampling keeps every trace with an error, every
# trace slower than slow_trace_ms and keep_percent of the others. Two
# gateways and three samplers, spread over the zones; a tenth of the
# ordinary traces.
collector = {
  chart_version    = "0.127.2"
  adot_version     = "v0.45.1"
  contrib_version  = "0.139.0"
  gateway_replicas = 2
  sampler_replicas = 3
  slow_trace_ms    = 2000
  keep_percent     = 10
}
