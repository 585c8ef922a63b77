# The OpenTelemetry collectors: where the apps (OTLP/HTTP) and their Dapr
# sidecars (OTLP/gRPC) send their spans, and what scrapes the apps' and the
# sidecars' Prometheus metrics. With backend "aws" spans go to X-Ray and
# metrics to CloudWatch as EMF (namespace ShopMesh, read by dashboard.tf and
# alarms.tf); with "datadog" both go to Datadog.
#
# How it is installed: three releases of the OpenTelemetry Collector Helm
# chart, not the EKS add-on "adot". The add-on is the ADOT operator: it needs
# cert-manager, and the collectors become OpenTelemetryCollector custom
# resources, which Terraform can only plan once the add-on's CRDs exist (a
# second apply); the chart is one helm_release per collector, like Dapr and
# the controllers of modules/cluster-addons.
#
# Images. With "aws", the gateway and the samplers run the ADOT collector
# (public.ecr.aws/aws-observability/aws-otel-collector: AWS's supported build
# of the upstream components). The metrics tier runs the upstream Contrib
# build: ADOT has no transform processor, which turns histogram buckets into
# counters (below, "Histograms"). With "datadog" every tier runs Contrib: ADOT
# deprecates its datadog exporter (feature gate
# adot.exporter.datadogexporter.deprecation) and has neither the datadog
# connector nor the secretsmanager config provider.
#
# Topology (tail sampling needs every span of a trace on one collector):
#  - otel-collector, the gateway (Deployment, collector.gateway_replicas):
#    the OTLP address the sidecars and apps name. A checkout's spans come from
#    five apps and their sidecars and the Service spreads them over every
#    gateway pod, so the gateway only routes: each span goes, by trace id, to
#    one sampler pod (loadbalancing exporter, whose k8s resolver watches the
#    sampler Service's endpoints).
#  - otel-sampler (Deployment, collector.sampler_replicas): tail sampling
#    (every trace with an error, every trace slower than slow_trace_ms,
#    keep_percent of the others), then X-Ray. A single collector doing both
#    would need no routing but could not scale out; with the routing tier
#    both tiers can. While the sampler pods change (rollout, scaling), the
#    spans of a trace in flight may be split between two of them.
#  - otel-metrics (Deployment, one replica, Recreate): scrapes every pod of
#    the services. Exactly one: two scrapers would each turn the same
#    counters into deltas and CloudWatch would count them twice.
#
# Metrics: CloudWatch EMF rather than Amazon Managed Prometheus. The
# dashboard and alarms live in CloudWatch beside the ALB, RDS and MSK alarms
# and the alarm topic; EMF needs no workspace and no Grafana, and costs per
# metric kept (the awsemf declarations below keep about 250). AMP would run
# the Prometheus rules unchanged and keep histograms whole, but needs Managed
# Grafana for the dashboard and its own Alertmanager route to SNS.
#
# Histograms. EMF keeps a histogram only as count and sum (no percentiles),
# so the two histograms the dashboard and alarms need percentiles of
# (http_request_duration_seconds, shopmesh_order_settle_duration_seconds) are
# shipped as their Prometheus buckets: counters named *_bucket with an `le`
# dimension. A p99 is then metric math over the buckets (dashboard.tf), and
# "p99 above 5 s" is "fewer than 99% within the le=5 bucket" (alarms.tf).

locals {
  # The address every span is sent to. dapr/aws/config.yaml (the sidecars,
  # OTLP/gRPC) and charts/shopmesh-lib/templates/_values.tpl
  # (tracing.otlpEndpoint, the apps, OTLP/HTTP) name it literally; the Go
  # test tools/cmd/infracheck fails when they and these values part.
  collector = {
    name      = "otel-collector"
    namespace = "observability"
    grpc_port = 4317
    http_port = 4318
  }
  sampler_name = "otel-sampler"
  metrics_name = "otel-metrics"

  cloudwatch = var.backend == "aws"

  # CloudWatch metric namespace of the EMF metrics.
  metric_namespace = "ShopMesh"

  # Images: see the top of this file.
  adot    = { repository = "public.ecr.aws/aws-observability/aws-otel-collector", tag = var.collector.adot_version }
  contrib = { repository = "otel/opentelemetry-collector-contrib", tag = var.collector.contrib_version }
  # The executables of the two images (the chart's command.name).
  adot_command    = "awscollector"
  contrib_command = "otelcol-contrib"

  # The chart's default receivers and pipelines, removed (a null value
  # deletes a key of the chart's default config).
  no_default_receivers = { jaeger = null, zipkin = null, prometheus = null }
  no_default_ports = {
    jaeger-compact = { enabled = false }
    jaeger-thrift  = { enabled = false }
    jaeger-grpc    = { enabled = false }
    zipkin         = { enabled = false }
  }
  no_default_pipelines = { logs = null, metrics = null, traces = null }

  # --- Datadog (backend "datadog"). The API key is read by the collector
  # itself from Secrets Manager (Contrib's secretsmanager config provider,
  # with the tier's IRSA role), so it never passes through Terraform's state.
  datadog_exporter = {
    api = {
      site = var.datadog.site
      key  = "$${secretsmanager:${var.datadog.api_key_secret}}"
    }
  }

  # --- Gateway: OTLP in, each span routed by trace id to a sampler pod.
  loadbalancing = {
    routing_key = "traceID"
    protocol    = { otlp = { tls = { insecure = true }, timeout = "10s" } }
    resolver    = { k8s = { service = "${local.sampler_name}.${local.collector.namespace}", ports = [local.collector.grpc_port] } }
  }
  gateway_receivers = merge(local.no_default_receivers, {
    otlp = {
      protocols = {
        grpc = { endpoint = "$${env:MY_POD_IP}:${local.collector.grpc_port}" }
        http = { endpoint = "$${env:MY_POD_IP}:${local.collector.http_port}" }
      }
    }
  })
  gateway_config = {
    aws = {
      receivers = local.gateway_receivers
      exporters = { debug = null, loadbalancing = local.loadbalancing }
      service = {
        pipelines = merge(local.no_default_pipelines, {
          traces = { receivers = ["otlp"], processors = ["memory_limiter"], exporters = ["loadbalancing"] }
        })
      }
    }
    # Datadog's APM stats (request rates, errors, latencies per service) are
    # computed by the datadog connector from every span, before sampling.
    datadog = {
      receivers  = local.gateway_receivers
      connectors = { "datadog/connector" = {} }
      exporters  = { debug = null, loadbalancing = local.loadbalancing, datadog = local.datadog_exporter }
      service = {
        pipelines = merge(local.no_default_pipelines, {
          traces              = { receivers = ["otlp"], processors = ["memory_limiter"], exporters = ["loadbalancing", "datadog/connector"] }
          "metrics/apm-stats" = { receivers = ["datadog/connector"], processors = ["memory_limiter", "batch"], exporters = ["datadog"] }
        })
      }
    }
  }

  # --- Samplers: whole traces in, the interesting ones out.
  tail_sampling = {
    # A checkout's saga normally settles in well under a second; spans that
    # arrive after the decision follow it (decision_cache).
    decision_wait               = "10s"
    num_traces                  = 100000
    expected_new_traces_per_sec = 200
    decision_cache              = { sampled_cache_size = 100000 }
    policies = [
      { name = "errors", type = "status_code", status_code = { status_codes = ["ERROR"] } },
      { name = "slow", type = "latency", latency = { threshold_ms = var.collector.slow_trace_ms } },
      { name = "share-of-the-rest", type = "probabilistic", probabilistic = { sampling_percentage = var.collector.keep_percent } },
    ]
  }
  sampler_processors = {
    tail_sampling = local.tail_sampling
    resource      = { attributes = [{ key = "deployment.environment.name", value = var.environment, action = "upsert" }] }
  }
  sampler_receivers = merge(local.no_default_receivers, {
    otlp = { protocols = { grpc = { endpoint = "$${env:MY_POD_IP}:${local.collector.grpc_port}" }, http = null } }
  })
  sampler_config = {
    aws = {
      receivers  = local.sampler_receivers
      processors = local.sampler_processors
      exporters  = { debug = null, awsxray = { region = var.region } }
      service = {
        pipelines = merge(local.no_default_pipelines, {
          traces = { receivers = ["otlp"], processors = ["memory_limiter", "tail_sampling", "resource", "batch"], exporters = ["awsxray"] }
        })
      }
    }
    datadog = {
      receivers  = local.sampler_receivers
      processors = local.sampler_processors
      exporters  = { debug = null, datadog = local.datadog_exporter }
      service = {
        pipelines = merge(local.no_default_pipelines, {
          traces = { receivers = ["otlp"], processors = ["memory_limiter", "tail_sampling", "resource", "batch"], exporters = ["datadog"] }
        })
      }
    }
  }

  # --- Metrics: every pod of the services with a Dapr sidecar, twice: the
  # app container's /metrics on its port "http" (job apps) and daprd's
  # metrics port "dapr-metrics" (job daprd), as the local Prometheus does
  # (observability/prometheus/prometheus.yml). Target labels: app (the Dapr
  # app id), container (app or daprd), pod (without it the delta of a counter
  # would mix the pods of an app) and environment.
  dapr_pods = [
    { source_labels = ["__meta_kubernetes_pod_annotation_dapr_io_enabled"], regex = "true", action = "keep" },
    { source_labels = ["__meta_kubernetes_pod_phase"], regex = "Running", action = "keep" },
  ]
  target_labels = [
    { source_labels = ["__meta_kubernetes_pod_annotation_dapr_io_app_id"], target_label = "app" },
    { source_labels = ["__meta_kubernetes_pod_container_name"], target_label = "container" },
    { source_labels = ["__meta_kubernetes_pod_name"], target_label = "pod" },
    { target_label = "environment", replacement = var.environment },
  ]

  # The series the dashboard and alarms read; everything else is dropped at
  # the scrape. The two histograms whose percentiles they need keep only
  # their buckets.
  kept_metrics = [
    "http_requests_total",
    "shopmesh_orders_total",
    "shopmesh_payments_total",
    "shopmesh_reservations_total",
    "messaging_client_sent_messages_total",
    "messaging_client_consumed_messages_total",
    "shopmesh_outbox_events_waiting",
    "shopmesh_outbox_oldest_event_age_seconds",
  ]
  bucket_histograms = ["http_request_duration_seconds", "shopmesh_order_settle_duration_seconds"]

  # http_requests_total by class of status code (code_class="5xx"): a
  # CloudWatch dimension must match exactly, so the 5xx ratio needs the class.
  code_classes = [for c in ["1", "2", "3", "4", "5"] : {
    source_labels = ["__name__", "code"]
    regex         = "http_requests_total;${c}[0-9][0-9]"
    target_label  = "code_class"
    replacement   = "${c}xx"
  }]

  app_metric_relabel = {
    # Buckets become a series of their own: renamed *_le, the scrape has no
    # type for them and the receiver makes them gauges, which transform/buckets
    # turns into cumulative counters named *_bucket again. `le` loses the
    # ".0" Prometheus 3 adds to whole numbers (le="5.0" is le="5"): the
    # dashboard and alarms name buckets as the apps define them. ($$ is a
    # literal $ in the collector's configuration.)
    aws = concat(
      [{ source_labels = ["__name__"], regex = join("|", concat(local.kept_metrics, [for h in local.bucket_histograms : "${h}_bucket"])), action = "keep" }],
      # Response times without the probes and the scrapes, as on the local
      # overview (requests keep them: HighServerErrorRatio counts them).
      [{ source_labels = ["__name__", "route"], regex = "http_request_duration_seconds_bucket;(/healthz|/readyz|/metrics)", action = "drop" }],
      [{ source_labels = ["le"], regex = "([0-9]+)\\.0", target_label = "le", replacement = "$$1" }],
      [for h in local.bucket_histograms : { source_labels = ["__name__"], regex = "${h}_bucket", target_label = "__name__", replacement = "${h}_le" }],
      local.code_classes,
    )
    # Datadog takes the histograms whole (distributions).
    datadog = concat(
      [{ source_labels = ["__name__"], regex = join("|", concat(local.kept_metrics, [for h in local.bucket_histograms : "${h}_(bucket|sum|count)"])), action = "keep" }],
      local.code_classes,
    )
  }

  scrape_configs = {
    for backend in ["aws", "datadog"] : backend => [
      {
        job_name              = "apps"
        scrape_interval       = "30s"
        kubernetes_sd_configs = [{ role = "pod", namespaces = { names = [var.app_namespace] } }]
        relabel_configs = concat(local.dapr_pods, [{
          source_labels = ["__meta_kubernetes_pod_container_name", "__meta_kubernetes_pod_container_port_name"]
          regex         = "app;http"
          action        = "keep"
        }], local.target_labels)
        metric_relabel_configs = local.app_metric_relabel[backend]
      },
      {
        # Only up (SidecarDown): daprd's own metrics are dropped; `up` is
        # not subject to metric relabelling.
        job_name              = "daprd"
        scrape_interval       = "30s"
        kubernetes_sd_configs = [{ role = "pod", namespaces = { names = [var.app_namespace] } }]
        relabel_configs = concat(local.dapr_pods, [{
          source_labels = ["__meta_kubernetes_pod_container_name", "__meta_kubernetes_pod_container_port_name"]
          regex         = "daprd;dapr-metrics"
          action        = "keep"
        }], local.target_labels)
        metric_relabel_configs = [{ source_labels = ["__name__"], regex = ".+", action = "drop" }]
      },
    ]
  }

  # The receiver's own scrape_* series are not wanted anywhere.
  drop_scrape_series = { error_mode = "ignore", metrics = { metric = ["IsMatch(metric.name, \"^scrape_\")"] } }

  # What awsemf turns into CloudWatch metrics, with which dimension sets (no
  # roll-up: exactly these). Every set starts with environment.
  emf_declarations = [for d in [
    { metrics = ["http_requests_total"], dimensions = [["app"], ["app", "code_class"]] },
    { metrics = ["http_request_duration_seconds_bucket"], dimensions = [["app", "le"]] },
    { metrics = ["shopmesh_orders_total", "shopmesh_payments_total", "shopmesh_reservations_total"], dimensions = [["outcome"], ["outcome", "reason"]] },
    { metrics = ["shopmesh_order_settle_duration_seconds_bucket"], dimensions = [["outcome", "le"]] },
    { metrics = ["messaging_client_sent_messages_total"], dimensions = [["messaging_destination_name"]] },
    { metrics = ["messaging_client_consumed_messages_total"], dimensions = [["status"], ["app", "messaging_destination_name", "status"]] },
    { metrics = ["shopmesh_outbox_events_waiting", "shopmesh_outbox_oldest_event_age_seconds"], dimensions = [["app"]] },
    { metrics = ["up"], dimensions = [["container", "app"]] },
    ] : {
    metric_name_selectors = [for m in d.metrics : "^${m}$"]
    dimensions            = [for s in d.dimensions : concat(["environment"], s)]
  }]

  metrics_config = {
    aws = {
      receivers = merge(local.no_default_receivers, { otlp = null, prometheus = { config = { scrape_configs = local.scrape_configs.aws } } })
      processors = {
        "filter/scrape" = local.drop_scrape_series
        "transform/buckets" = {
          error_mode = "ignore"
          metric_statements = [{
            context = "metric"
            statements = concat(
              [for h in local.bucket_histograms : "convert_gauge_to_sum(\"cumulative\", true) where metric.name == \"${h}_le\""],
              [for h in local.bucket_histograms : "set(metric.name, \"${h}_bucket\") where metric.name == \"${h}_le\""],
            )
          }]
        }
      }
      exporters = {
        debug = null
        awsemf = {
          region                  = var.region
          namespace               = local.metric_namespace
          log_group_name          = join("", aws_cloudwatch_log_group.collector_metrics[*].name)
          log_stream_name         = local.metrics_name
          dimension_rollup_option = "NoDimensionRollup"
          metric_declarations     = local.emf_declarations
        }
      }
      service = {
        pipelines = merge(local.no_default_pipelines, {
          metrics = { receivers = ["prometheus"], processors = ["memory_limiter", "filter/scrape", "transform/buckets", "batch"], exporters = ["awsemf"] }
        })
      }
    }
    datadog = {
      receivers  = merge(local.no_default_receivers, { otlp = null, prometheus = { config = { scrape_configs = local.scrape_configs.datadog } } })
      processors = { "filter/scrape" = local.drop_scrape_series }
      exporters  = { debug = null, datadog = local.datadog_exporter }
      service = {
        pipelines = merge(local.no_default_pipelines, {
          metrics = { receivers = ["prometheus"], processors = ["memory_limiter", "filter/scrape", "batch"], exporters = ["datadog"] }
        })
      }
    }
  }

  # The three releases. Everything but the numbers is YAML already: the tiers
  # differ in shape, and for_each needs values of one type.
  tiers = {
    gateway = {
      release  = local.collector.name
      replicas = var.collector.gateway_replicas
      values = yamlencode({
        image   = local.cloudwatch ? local.adot : local.contrib
        command = { name = local.cloudwatch ? local.adot_command : local.contrib_command }
        ports = merge(local.no_default_ports, {
          otlp      = { enabled = true, containerPort = local.collector.grpc_port, servicePort = local.collector.grpc_port, protocol = "TCP" }
          otlp-http = { enabled = true, containerPort = local.collector.http_port, servicePort = local.collector.http_port, protocol = "TCP" }
        })
        # The loadbalancing exporter's k8s resolver.
        clusterRole = {
          create = true
          rules = [
            { apiGroups = [""], resources = ["endpoints"], verbs = ["get", "list", "watch"] },
            { apiGroups = ["discovery.k8s.io"], resources = ["endpointslices"], verbs = ["get", "list", "watch"] },
          ]
        }
        resources = { requests = { cpu = "100m", memory = "128Mi" }, limits = { cpu = "1", memory = "512Mi" } }
        config    = local.gateway_config[var.backend]
      })
    }
    sampler = {
      release  = local.sampler_name
      replicas = var.collector.sampler_replicas
      values = yamlencode({
        image   = local.cloudwatch ? local.adot : local.contrib
        command = { name = local.cloudwatch ? local.adot_command : local.contrib_command }
        ports = merge(local.no_default_ports, {
          otlp      = { enabled = true, containerPort = local.collector.grpc_port, servicePort = local.collector.grpc_port, protocol = "TCP" }
          otlp-http = { enabled = false }
        })
        clusterRole = { create = false }
        # Traces wait here for decision_wait: the memory is the buffer.
        resources = { requests = { cpu = "200m", memory = "512Mi" }, limits = { cpu = "1", memory = "1Gi" } }
        config    = local.sampler_config[var.backend]
      })
    }
    metrics = {
      release  = local.metrics_name
      replicas = 1
      values = yamlencode({
        image   = local.contrib
        command = { name = local.contrib_command }
        ports = merge(local.no_default_ports, {
          otlp      = { enabled = false }
          otlp-http = { enabled = false }
        })
        # Nothing sends to it.
        service = { enabled = false }
        rollout = { strategy = "Recreate" }
        # kubernetes_sd_configs, role pod.
        clusterRole = {
          create = true
          rules  = [{ apiGroups = [""], resources = ["pods"], verbs = ["get", "list", "watch"] }]
        }
        resources = { requests = { cpu = "100m", memory = "256Mi" }, limits = { cpu = "500m", memory = "512Mi" } }
        config    = local.metrics_config[var.backend]
      })
    }
  }

  emf_log_group_arn = join("", aws_cloudwatch_log_group.collector_metrics[*].arn)

  # What each tier's IRSA role may do (JSON; null: nothing).
  datadog_key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "DatadogApiKey"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = "arn:${data.aws_partition.current.partition}:secretsmanager:${var.region}:${data.aws_caller_identity.current.account_id}:secret:${var.datadog.api_key_secret}-*"
      },
      { Sid = "DecryptSecret", Effect = "Allow", Action = ["kms:Decrypt"], Resource = var.kms_key_arn },
    ]
  })
  collector_policies = {
    gateway = local.cloudwatch ? null : local.datadog_key_policy
    sampler = local.cloudwatch ? jsonencode({
      Version   = "2012-10-17"
      Statement = [{ Sid = "XRay", Effect = "Allow", Action = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], Resource = "*" }]
    }) : local.datadog_key_policy
    metrics = local.cloudwatch ? jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Sid      = "EmfLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
        Resource = [local.emf_log_group_arn, "${local.emf_log_group_arn}:*"]
      }]
    }) : local.datadog_key_policy
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# The metrics the collector writes as EMF (the CloudWatch metrics are
# extracted from it; Logs Insights can read every label of every sample).
resource "aws_cloudwatch_log_group" "collector_metrics" {
  count             = local.cloudwatch ? 1 : 0
  name              = "/${var.name}/collector/metrics"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "kubernetes_namespace_v1" "observability" {
  metadata {
    name = local.collector.namespace
    labels = {
      "pod-security.kubernetes.io/enforce" = "baseline"
      "pod-security.kubernetes.io/warn"    = "restricted"
    }
  }
}

module "collector_roles" {
  source            = "../irsa"
  for_each          = local.tiers
  name              = "${var.name}-${each.value.release}"
  oidc_provider_arn = var.oidc_provider_arn
  oidc_issuer       = var.oidc_issuer
  service_accounts  = ["${local.collector.namespace}:${each.value.release}"]
  policy_json       = local.collector_policies[each.key]
  tags              = var.tags
}

resource "helm_release" "collector" {
  for_each   = local.tiers
  name       = each.value.release
  repository = "https://open-telemetry.github.io/opentelemetry-helm-charts"
  chart      = "opentelemetry-collector"
  version    = var.collector.chart_version
  namespace  = kubernetes_namespace_v1.observability.metadata[0].name
  wait       = true
  timeout    = 600
  values = [
    yamlencode({
      mode             = "deployment"
      fullnameOverride = each.value.release
      replicaCount     = each.value.replicas
      serviceAccount = {
        create      = true
        name        = each.value.release
        annotations = { "eks.amazonaws.com/role-arn" = module.collector_roles[each.key].role_arn }
      }
      # The exporters' and the secretsmanager provider's region.
      extraEnvs           = [{ name = "AWS_REGION", value = var.region }]
      podDisruptionBudget = { enabled = each.value.replicas > 1, maxUnavailable = 1 }
      topologySpreadConstraints = [{
        maxSkew           = 1
        topologyKey       = "topology.kubernetes.io/zone"
        whenUnsatisfiable = "ScheduleAnyway"
        labelSelector     = { matchLabels = { "app.kubernetes.io/instance" = each.value.release } }
      }]
      podSecurityContext = {
        runAsNonRoot   = true
        runAsUser      = 10001
        runAsGroup     = 10001
        fsGroup        = 10001
        seccompProfile = { type = "RuntimeDefault" }
      }
      securityContext = {
        allowPrivilegeEscalation = false
        readOnlyRootFilesystem   = true
        capabilities             = { drop = ["ALL"] }
      }
    }),
    each.value.values,
  ]

  lifecycle {
    precondition {
      condition     = local.cloudwatch || var.datadog.api_key_secret != ""
      error_message = "With the datadog backend, datadog.api_key_secret must name the Secrets Manager secret holding the API key."
    }
  }
}
