# One ShopMesh environment on AWS (the seed's architecture). Apply once per
# environment with its tfvars and backend (docs/deploy-aws.md):
#   tofu init -backend-config=../environments/prod.s3.tfbackend
#   tofu apply -var-file=../environments/prod.tfvars
# then hand `tofu output -json helm_values` to the charts.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name       = "shopmesh-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  tags = {
    Application = "shopmesh"
    Environment = var.environment
    ManagedBy   = "terraform"
  }

  # The Dapr app ids (dapr/dapr.yaml, internal/contracts/names.go): an image
  # repository, an IAM role and the alarms of each.
  apps = ["gateway", "users", "catalog", "inventory", "orders", "payments", "notifications", "search", "storefront"]

  # Which apps keep their state where (components/aws and the chosen alternatives).
  rds_apps   = concat(["users", "orders", "payments"], [for a in ["catalog", "notifications"] : a if contains(var.component_alternatives, "${a}-store.rds")])
  docdb_apps = [for a in ["catalog", "notifications"] : a if !contains(var.component_alternatives, "${a}-store.rds")]
  snssqs     = contains(var.component_alternatives, "pubsub.snssqs")

  # Topics (internal/contracts): one per aggregate and its dead-letter topic.
  # The services publish their events themselves (the kit's outbox, records
  # in each service's own state store), so Dapr has no internal outbox topics.
  business_topics = ["catalog", "users", "orders", "inventory", "payments"]
  topics          = concat(local.business_topics, [for t in local.business_topics : "${t}-deadletter"])

  # The topics each app consumes (the checkout saga in the design): keep in
  # step with the apps' subscriptions. Used for the SNS/SQS subscriptions and
  # the consumer-lag alarms.
  consumes = tomap({
    inventory     = ["orders"]
    payments      = ["inventory"]
    orders        = ["inventory", "payments"]
    notifications = ["orders", "users"]
    search        = ["catalog"]
  })
  # SNS/SQS entities of the pubsub.snssqs alternative: each consuming app
  # reads its topics from a queue named after the app.
  sns_topics        = local.snssqs ? local.topics : []
  sqs_subscriptions = { for app, topics in local.consumes : app => topics if local.snssqs }
  # MSK holds the topics unless pub/sub runs on SNS/SQS; then there is no
  # cluster at all.
  kafka_topics = local.snssqs ? [] : local.topics
  kafka        = length(local.kafka_topics) > 0

  api_origin_host = "origin.${var.domain}"

  # The apps that publish through the kit's outbox (outbox.Module in their
  # store packages): one outbox-age alarm each. tools/cmd/infracheck keeps
  # the list in step with the apps.
  outbox_apps = ["catalog", "users", "orders", "payments"]
}

module "kms" {
  source               = "../modules/kms"
  name                 = local.name
  deletion_window_days = var.protect ? 30 : 7
  tags                 = local.tags
}

module "network" {
  source             = "../modules/network"
  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  single_nat_gateway = !var.protect
  cluster_name       = local.name
  tags               = local.tags
}

module "eks" {
  source              = "../modules/eks"
  name                = local.name
  kubernetes_version  = var.kubernetes_version
  private_subnet_ids  = module.network.private_subnet_ids
  public_access_cidrs = var.eks_public_access_cidrs
  on_demand           = var.node_groups.on_demand
  spot                = var.node_groups.spot
  kms_key_arn         = module.kms.key_arn
  log_retention_days  = var.log_retention_days
  tags                = local.tags
}

module "cluster_addons" {
  source            = "../modules/cluster-addons"
  cluster_name      = module.eks.cluster_name
  region            = var.region
  vpc_id            = module.network.vpc_id
  oidc_provider_arn = module.eks.oidc_provider_arn
  oidc_issuer       = module.eks.oidc_issuer
  dapr_version      = var.dapr_version
  dapr_ha           = var.protect
  chart_versions    = var.chart_versions
  enable_lattice    = var.enable_lattice
  tags              = local.tags
}

module "ecr" {
  source      = "../modules/ecr"
  prefix      = "shopmesh"
  images      = concat(local.apps, ["migrate"])
  kms_key_arn = module.kms.key_arn
  tags        = local.tags
}

module "rds" {
  source                    = "../modules/rds"
  name                      = local.name
  environment               = var.environment
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.database_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  engine_version            = var.rds.engine_version
  instance_class            = var.rds.instance_class
  allocated_storage         = var.rds.allocated_storage
  multi_az                  = var.rds.multi_az
  read_replica              = var.rds.read_replica
  apps                      = local.rds_apps
  deletion_protection       = var.protect
  backup_retention_days     = var.rds.backup_retention_days
  kms_key_arn               = module.kms.key_arn
  tags                      = local.tags
}

module "documentdb" {
  count                     = length(local.docdb_apps) > 0 ? 1 : 0
  source                    = "../modules/documentdb"
  name                      = local.name
  environment               = var.environment
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.database_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  instance_class            = var.documentdb.instance_class
  instance_count            = var.documentdb.instance_count
  apps                      = local.docdb_apps
  deletion_protection       = var.protect
  backup_retention_days     = var.rds.backup_retention_days
  kms_key_arn               = module.kms.key_arn
  tags                      = local.tags
}

module "dynamodb" {
  source              = "../modules/dynamodb"
  name                = "${local.name}-inventory"
  deletion_protection = var.protect
  kms_key_arn         = module.kms.key_arn
  tags                = local.tags
}

module "elasticache" {
  source                    = "../modules/elasticache"
  name                      = local.name
  environment               = var.environment
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.database_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  node_type                 = var.elasticache.node_type
  replicas                  = var.elasticache.replicas
  token_readers             = ["orders", "gateway"]
  kms_key_arn               = module.kms.key_arn
  tags                      = local.tags
}

module "msk" {
  count                     = local.kafka ? 1 : 0
  source                    = "../modules/msk"
  name                      = local.name
  environment               = var.environment
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.database_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  kafka_version             = var.msk.kafka_version
  instance_type             = var.msk.instance_type
  brokers_per_zone          = var.msk.brokers_per_zone
  volume_size               = var.msk.volume_size
  enhanced_monitoring       = var.msk.enhanced_monitoring
  kms_key_arn               = module.kms.key_arn
  log_retention_days        = var.log_retention_days
  tags                      = local.tags
}

module "messaging" {
  count             = local.snssqs ? 1 : 0
  source            = "../modules/messaging"
  topics            = local.sns_topics
  subscriptions     = local.sqs_subscriptions
  max_receive_count = 5
  tags              = local.tags
}

module "opensearch" {
  source                    = "../modules/opensearch"
  name                      = local.name
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.database_subnet_ids
  client_security_group_ids = [module.eks.cluster_security_group_id]
  engine_version            = var.opensearch.engine_version
  instance_type             = var.opensearch.instance_type
  instance_count            = var.opensearch.instance_count
  zone_count                = var.opensearch.zone_count
  volume_size               = var.opensearch.volume_size
  reader_role_arns          = [module.service_roles["search"].role_arn]
  kms_key_arn               = module.kms.key_arn
  tags                      = local.tags
}

module "cognito" {
  source              = "../modules/cognito"
  name                = local.name
  environment         = var.environment
  deletion_protection = var.protect
  kms_key_arn         = module.kms.key_arn
  tags                = local.tags
}

module "waf" {
  source             = "../modules/waf"
  name               = local.name
  rate_limit         = var.waf.rate_limit
  blocked_countries  = var.waf.blocked_countries
  blocked_ips        = var.waf.blocked_ips
  allowed_ips        = var.waf.allowed_ips
  log_retention_days = var.log_retention_days
  tags               = local.tags

  providers = {
    aws = aws.us_east_1
  }
}

module "cdn" {
  source               = "../modules/cdn"
  name                 = local.name
  domain               = var.domain
  api_origin_host      = local.api_origin_host
  vpc_id               = module.network.vpc_id
  vpc_cidr             = module.network.cidr_block
  alb                  = var.alb == null ? null : { dns_name = var.alb.dns_name, zone_id = var.alb.zone_id }
  web_acl_arn          = module.waf.web_acl_arn
  origin_shield_region = var.region
  price_class          = var.cloudfront_price_class
  tags                 = local.tags

  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }
}

module "observability" {
  source              = "../modules/observability"
  name                = local.name
  environment         = var.environment
  region              = var.region
  cluster_name        = module.eks.cluster_name
  oidc_provider_arn   = module.eks.oidc_provider_arn
  oidc_issuer         = module.eks.oidc_issuer
  alarm_emails        = var.alarms.emails
  log_retention_days  = var.log_retention_days
  alb_arn_suffix      = var.alb == null ? "" : var.alb.arn_suffix
  error_rate_percent  = var.alarms.error_rate_percent
  latency_p99_seconds = var.alarms.latency_p99_seconds
  msk_cluster_name    = local.kafka ? module.msk[0].cluster_name : ""
  consumer_lag        = local.snssqs ? {} : local.consumes
  lag_threshold       = var.alarms.lag_threshold
  rds_instance_id     = module.rds.instance_id
  apps                = local.apps
  outbox_apps         = local.outbox_apps
  app_namespace       = "shopmesh"
  kms_key_arn         = module.kms.key_arn
  backend             = var.observability_backend
  datadog             = var.datadog
  collector           = var.collector
  tags                = local.tags

  # The collectors are Helm releases: after the cluster's controllers (the
  # AWS Load Balancer Controller's webhook must answer before Services are
  # created, and Dapr waits for the nodes).
  depends_on = [module.cluster_addons]
}
