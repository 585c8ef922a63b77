{{/*
Values of every ShopMesh chart, in three layers merged here (later wins):
  1. shopmesh.defaults below: what a service gets unless told otherwise;
  2. the chart's values.yaml, the environment file (charts/values-<env>.yaml)
     and the infrastructure file written from Terraform's outputs, merged by
     Helm in the order given with -f;
  3. services.<app id> of those files: per-service overrides, so one
     environment file serves all charts.
Library charts' own values never reach the parent chart, hence the defaults
live in a template.
*/}}
{{- define "shopmesh.defaults" -}}
# dev | staging | prod: names resources, secrets (${SHOPMESH_ENV}) and IAM roles.
environment: ""
image:
  # ECR registry, e.g. 111122223333.dkr.ecr.eu-west-1.amazonaws.com (Terraform output).
  registry: ""
  repositoryPrefix: shopmesh
  tag: ""
  pullPolicy: IfNotPresent
aws:
  region: ""
  accountId: ""
  # IAM role of a service: <iamRolePrefix>-<environment>-<app id> (infra/terraform/modules/irsa).
  iamRolePrefix: shopmesh
# Variables the Dapr components read with envRef (docs/aws-components.md); each
# app's sidecar gets only the ones its components use, through dapr.io/env.
daprEnv: {}
components:
  # Files of components/aws-alternatives (without .yaml) that replace the
  # default component of the same name, e.g. [catalog-store.rds].
  alternatives: []
logLevel: info
# Where the app sends its spans (OTLP/HTTP; the sidecars' go to the same
# collector through dapr/aws/config.yaml) and the share of new traces kept:
# a call that arrives with a sampling decision keeps it.
tracing:
  otlpEndpoint: http://otel-collector.observability.svc.cluster.local:4318
  samplerRatio: 0.1
replicas: 2
autoscaling:
  enabled: true
  minReplicas: 2
  maxReplicas: 6
  targetCPUUtilizationPercentage: 70
  targetMemoryUtilizationPercentage: 80
pdb:
  enabled: true
  maxUnavailable: 1
resources:
  requests:
    cpu: 100m
    memory: 128Mi
  limits:
    cpu: 500m
    memory: 256Mi
terminationGracePeriodSeconds: 40
dapr:
  logLevel: info
  sidecar:
    cpuRequest: 100m
    cpuLimit: 300m
    memoryRequest: 128Mi
    memoryLimit: 512Mi
  # Seconds daprd waits for in-flight work on shutdown (below the pod's grace period).
  gracefulShutdownSeconds: 30
  # Create the token Secrets (key "token") with a random value kept across upgrades;
  # false: create <app id>-dapr-api-token and <app id>-dapr-app-token yourself.
  createTokenSecrets: true
topologySpread:
  # ScheduleAnyway in dev (one AZ may do); DoNotSchedule where zones must be spread.
  zone: ScheduleAnyway
  node: ScheduleAnyway
scheduling:
  # Non-critical services may run on spot nodes where spot.enabled.
  critical: true
  nodeSelector: {}
spot:
  enabled: false
  # Label and taint of the spot node group (infra/terraform/modules/eks).
  capacityTypeLabel: eks.amazonaws.com/capacityType
  taintKey: shopmesh.io/spot
networkPolicy:
  enabled: true
  # Namespace whose pods may scrape /metrics and daprd's :9090: the
  # OpenTelemetry collectors Terraform installs (modules/observability).
  metricsNamespace: observability
  # Where the ALB's nodes live (the public subnets): only they reach the gateway's port.
  albSourceCIDRs: []
  # Where kubelet probes come from (the nodes' subnets), for CNIs that police them.
  probeSourceCIDRs: []
caBundle:
  # ConfigMap with key global-bundle.pem: the Amazon RDS/DocumentDB CA bundle,
  # mounted into daprd at /etc/rds or /etc/docdb (see the components' DSNs).
  configMap: aws-rds-ca
serviceAccount:
  # Empty: arn:aws:iam::<aws.accountId>:role/<iamRolePrefix>-<environment>-<app id>.
  roleArn: ""
# Plain environment of the app container.
env: {}
# Environment of the app container read from AWS Secrets Manager through the
# Secrets Store CSI driver (AWS provider): NAME: secret name (${SHOPMESH_ENV} allowed).
secretEnv: {}
mesh:
  # none: Dapr's mTLS, retries, circuit breakers and access control are the mesh.
  # appmesh: App Mesh resources for clusters still running it (discontinued 2026-09-30).
  # lattice: VPC Lattice through Gateway API HTTPRoutes.
  mode: none
  appmesh:
    # Empty: shopmesh-<environment>.
    meshName: ""
    # Ports whose egress Envoy must not intercept: Dapr control plane and
    # sidecar-to-sidecar (443 sentry/operator, 50001/50002 daprd gRPC, 50005
    # placement, 50006 scheduler, 3500 daprd HTTP) and the data stores daprd
    # reaches directly (5432 RDS, 6379 ElastiCache, 27017 DocumentDB, 9096 MSK SCRAM).
    egressIgnoredPorts: "22,443,3500,50001,50002,50005,50006,5432,6379,27017,9096"
    # IMDS and the EKS Pod Identity agent.
    egressIgnoredIPs: "169.254.169.254,169.254.170.23"
  lattice:
    # Empty: shopmesh-<environment>, the Gateway the platform chart creates.
    gatewayName: ""
    # Expose this app as a VPC Lattice service (the gateway only, by default:
    # internal apps are reached through Dapr, which enforces access control).
    expose: false
    # VPC Lattice's source range (managed prefix list com.amazonaws.<region>.vpc-lattice).
    sourceCIDRs: ["169.254.171.0/24"]
ingress:
  enabled: false
  host: ""
  certificateArn: ""
  wafAclArn: ""
  # Security group(s) of the ALB, comma-separated: infra/terraform's admits
  # HTTPS from CloudFront only. Empty: the controller makes one open to all.
  securityGroups: ""
  groupName: shopmesh
  scheme: internet-facing
  sslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06
  deletionProtection: false
migration:
  # Runs when the app has a state.postgresql component (golang-migrate, migrate/).
  enabled: true
  backoffLimit: 2
  activeDeadlineSeconds: 600
  # Secrets Manager: the JSON secrets file the migrate command reads
  # ({"<app>-db-password", "<app>-store-dsn"}) and the RDS master DSN.
  secretsFile: shopmesh/${SHOPMESH_ENV}/{app}/migrate-secrets
  adminDsn: shopmesh/${SHOPMESH_ENV}/shared/rds-admin-dsn
# Per-service overrides: services.<app id>.<any key above>.
services: {}
{{- end -}}

{{/* shopmesh.values: the merged values as YAML; use with fromYaml. */}}
{{- define "shopmesh.values" -}}
{{- $v := fromYaml (include "shopmesh.defaults" .) -}}
{{- include "shopmesh.merge" (dict "dst" $v "src" (deepCopy .Values)) -}}
{{- if and .Values.app .Values.services -}}
{{- if hasKey .Values.services .Values.app.id -}}
{{- include "shopmesh.merge" (dict "dst" $v "src" (deepCopy (index .Values.services .Values.app.id))) -}}
{{- end -}}
{{- end -}}
{{- if not (has $v.environment (list "dev" "staging" "prod")) -}}
{{- fail (printf "environment must be dev, staging or prod, not %q (pass -f charts/values-<env>.yaml)" (toString $v.environment)) -}}
{{- end -}}
{{- if not (has $v.mesh.mode (list "none" "appmesh" "lattice")) -}}
{{- fail (printf "mesh.mode must be none, appmesh or lattice, not %q" (toString $v.mesh.mode)) -}}
{{- end -}}
{{- if ne .Release.Namespace "shopmesh" -}}
{{- fail (printf "install into namespace shopmesh, not %q: dapr/aws/config.yaml's access control names it" .Release.Namespace) -}}
{{- end -}}
{{- toYaml $v -}}
{{- end -}}

{{/*
shopmesh.merge merges .src into .dst in place, maps recursively. Sprig's
mergeOverwrite cannot be used: it never overwrites with false, 0 or "", so an
environment could not switch off what a default switches on.
*/}}
{{- define "shopmesh.merge" -}}
{{- $dst := .dst -}}
{{- range $k, $sv := .src -}}
{{- $dv := get $dst $k -}}
{{- if and (kindIs "map" $sv) (kindIs "map" $dv) -}}
{{- include "shopmesh.merge" (dict "dst" $dv "src" $sv) -}}
{{- else -}}
{{- $_ := set $dst $k $sv -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* shopmesh.required: fails unless the value (dict "v" value "name" path) is set. */}}
{{- define "shopmesh.required" -}}
{{- if not .v -}}
{{- fail (printf "%s must be set (Terraform output helm_values, see docs/deploy-aws.md)" .name) -}}
{{- end -}}
{{- .v -}}
{{- end -}}

{{- define "shopmesh.labels" -}}
app.kubernetes.io/name: {{ .id }}
app.kubernetes.io/part-of: shopmesh
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .v.image.tag | default .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
shopmesh.io/environment: {{ .v.environment }}
{{- end -}}

{{- define "shopmesh.selector" -}}
app.kubernetes.io/name: {{ .id }}
app.kubernetes.io/part-of: shopmesh
{{- end -}}
