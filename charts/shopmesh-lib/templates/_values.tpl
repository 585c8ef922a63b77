{{/*
Values of every ShopMesh chart, in three layers merged here (later wins):
  1. shopmesh.defaults below: what a service gets unless told otherwise;
  2. the chart's values.yaml, the environment file (charts/values-<env>.yaml)
     and the infrastructure file written from Terraform's outputs, merged by
     Helm in the order given with -f;
  3. services.<app id> of those files: per-service overrides, so one
     environment file serves all charts.

shopmesh.defaults is the one source of the shared settings: tools/cmd/chartgen
(`go tool task deploy:charts:docs`) writes it, with each chart's own values
(charts/<chart>/chartgen.yaml), into every chart's values.yaml (what
`helm show values` prints), values.schema.json (what Helm checks values
against before rendering) and, through helm-docs, README.md; CI fails when
they are not current (deploy:charts:docs:check). Library charts' own values
never reach the parent chart, hence the defaults live in a template, which
also keeps them in force for settings a chart's values.yaml does not show.

The block must stay plain YAML (no template actions). Comments: `# -- text`
describes the key below it (helm-docs; the schema's description), further
`#` lines continue it; `# @schema {JSON}` adds JSON Schema (draft 7) keywords
to the type inferred from the default, and on a map its "additionalProperties"
schema applies to the map's listed keys too.
*/}}
{{- define "shopmesh.defaults" -}}
# -- dev, staging or prod: names resources, secrets (`${SHOPMESH_ENV}`) and IAM roles.
# Set by `charts/values-<env>.yaml`; empty fails with a message saying so.
# @schema {"enum": ["", "dev", "staging", "prod"]}
environment: ""
# The app's container image: `<registry>/<repositoryPrefix>/<app id>:<tag>`
# (the migration Job's: `<registry>/<repositoryPrefix>/migrate:<tag>`).
image:
  # -- ECR registry, e.g. 111122223333.dkr.ecr.eu-west-1.amazonaws.com (Terraform output `helm_values`). Required.
  registry: ""
  # -- Repository prefix under the registry.
  repositoryPrefix: shopmesh
  # -- Image tag, a string (`--set-string image.tag=0.1.0`). Required.
  tag: ""
  # -- Kubernetes imagePullPolicy of the app and migration containers.
  # @schema {"enum": ["Always", "IfNotPresent", "Never"]}
  pullPolicy: IfNotPresent
aws:
  # -- AWS region of the environment, e.g. eu-west-1. Required.
  region: ""
  # -- AWS account id: 12 digits, quoted. Required unless serviceAccount.roleArn is set.
  # @schema {"pattern": "^([0-9]{12})?$"}
  accountId: ""
  # -- IAM role of a service: `<iamRolePrefix>-<environment>-<app id>` (infra/terraform/modules/irsa).
  iamRolePrefix: shopmesh
# -- Variables the Dapr components read with envRef (docs/aws-components.md); each
# app's sidecar gets only the ones its components use, through dapr.io/env. Values may not contain '='.
# @schema {"additionalProperties": {"type": ["string", "number", "boolean"]}}
daprEnv: {}
components:
  # -- Files of components/aws-alternatives (without .yaml) that replace the
  # default component of the same name, e.g. [catalog-store.rds].
  alternatives: []
# -- Log level of the app (LOG_LEVEL).
# @schema {"enum": ["debug", "info", "warn", "error"]}
logLevel: info
# Where the app sends its spans (the sidecars' go to the same collector through
# dapr/aws/config.yaml), and the share of new traces kept.
tracing:
  # -- OTLP/HTTP endpoint of the OpenTelemetry collector (infra/terraform/modules/observability).
  otlpEndpoint: http://otel-collector.observability.svc.cluster.local:4318
  # -- Share of new traces the app keeps (0 to 1); a call that arrives with a sampling decision keeps it.
  # @schema {"minimum": 0, "maximum": 1}
  samplerRatio: 0.1
# -- Replicas of the Deployment when autoscaling.enabled is false.
# @schema {"minimum": 0}
replicas: 2
# HorizontalPodAutoscaler on the app container's CPU and memory.
autoscaling:
  # -- Scale with an HPA (minReplicas..maxReplicas) instead of a fixed replica count.
  enabled: true
  # -- Fewest replicas.
  # @schema {"minimum": 1}
  minReplicas: 2
  # -- Most replicas.
  # @schema {"minimum": 1}
  maxReplicas: 6
  # -- Target average CPU use of the app container, in % of its request.
  # @schema {"minimum": 1, "maximum": 100}
  targetCPUUtilizationPercentage: 70
  # -- Target average memory use of the app container, in % of its request.
  # @schema {"minimum": 1, "maximum": 100}
  targetMemoryUtilizationPercentage: 80
pdb:
  # -- Create a PodDisruptionBudget.
  enabled: true
  # -- Pods that may be down at once during voluntary disruptions (a number or a percentage such as "25%").
  # @schema {"type": ["integer", "string"], "minimum": 0, "pattern": "^[0-9]+%$"}
  maxUnavailable: 1
# Requests and limits of the app container (Kubernetes quantities; the sidecar's are dapr.sidecar).
resources:
  # -- What the scheduler reserves.
  # @schema {"additionalProperties": {"$ref": "#/definitions/quantity"}}
  requests:
    cpu: 100m
    memory: 128Mi
  # -- The most the container may use.
  # @schema {"additionalProperties": {"$ref": "#/definitions/quantity"}}
  limits:
    cpu: 500m
    memory: 256Mi
# -- Seconds Kubernetes waits for the pod to stop (above dapr.gracefulShutdownSeconds).
# @schema {"minimum": 0}
terminationGracePeriodSeconds: 40
# The Dapr sidecar (daprd), set through the pod's dapr.io annotations.
dapr:
  # -- daprd's log level (dapr.io/log-level).
  # @schema {"enum": ["debug", "info", "warn", "error", "fatal"]}
  logLevel: info
  # Requests and limits of the daprd container (Kubernetes quantities).
  sidecar:
    # -- CPU request of daprd.
    # @schema {"$ref": "#/definitions/quantity"}
    cpuRequest: 100m
    # -- CPU limit of daprd.
    # @schema {"$ref": "#/definitions/quantity"}
    cpuLimit: 300m
    # -- Memory request of daprd.
    # @schema {"$ref": "#/definitions/quantity"}
    memoryRequest: 128Mi
    # -- Memory limit of daprd.
    # @schema {"$ref": "#/definitions/quantity"}
    memoryLimit: 512Mi
  # -- Seconds daprd waits for in-flight work on shutdown (below the pod's grace period).
  # @schema {"minimum": 0}
  gracefulShutdownSeconds: 30
  # -- Create the token Secrets (key "token") with a random value kept across upgrades;
  # false: create `<app id>-dapr-api-token` and `<app id>-dapr-app-token` yourself.
  createTokenSecrets: true
# How the pods spread over zones and nodes (whenUnsatisfiable of the topology spread constraints).
topologySpread:
  # -- Over zones: ScheduleAnyway in dev (one AZ may do); DoNotSchedule where zones must be spread.
  # @schema {"enum": ["ScheduleAnyway", "DoNotSchedule"]}
  zone: ScheduleAnyway
  # -- Over nodes.
  # @schema {"enum": ["ScheduleAnyway", "DoNotSchedule"]}
  node: ScheduleAnyway
scheduling:
  # -- Critical services stay on on-demand nodes; non-critical ones may run on (and prefer) spot nodes where spot.enabled.
  critical: true
  # -- nodeSelector of the pods.
  # @schema {"additionalProperties": {"type": "string"}}
  nodeSelector: {}
# The spot node group (infra/terraform/modules/eks).
spot:
  # -- Let non-critical services (scheduling.critical false) run on spot nodes.
  enabled: false
  # -- Node label holding the capacity type (value SPOT).
  capacityTypeLabel: eks.amazonaws.com/capacityType
  # -- Taint of the spot node group, tolerated by non-critical services.
  taintKey: shopmesh.io/spot
# NetworkPolicies (ingress only): a default deny (platform chart) and one per service.
networkPolicy:
  # -- Create the NetworkPolicies.
  enabled: true
  # -- Namespace whose pods may scrape /metrics and daprd's :9090: the
  # OpenTelemetry collectors Terraform installs (modules/observability).
  metricsNamespace: observability
  # -- CIDRs of the ALB's nodes (the public subnets): only they reach the port of an app with an Ingress
  # (the gateway, the storefront). Required with ingress.enabled.
  albSourceCIDRs: []
  # -- App ids whose pods call this app's port over plain HTTP, outside Dapr (the storefront calls
  # the gateway's public API through its Service): admitted to the port http.
  httpClients: []
  # -- CIDRs kubelet probes come from (the nodes' subnets), for CNIs that police them.
  probeSourceCIDRs: []
caBundle:
  # -- ConfigMap with key global-bundle.pem: the Amazon RDS/DocumentDB CA bundle,
  # mounted into daprd at /etc/rds or /etc/docdb (see the components' DSNs) and into the migration Job.
  configMap: aws-rds-ca
serviceAccount:
  # -- IAM role of the service account (IRSA); empty: `arn:aws:iam::<aws.accountId>:role/<iamRolePrefix>-<environment>-<app id>`.
  # @schema {"pattern": "^(arn:aws[a-z-]*:iam::[0-9]{12}:role/.+)?$"}
  roleArn: ""
# -- Plain environment of the app container: NAME: value.
# @schema {"additionalProperties": {"type": ["string", "number", "boolean"]}}
env: {}
# -- Environment of the app container read from AWS Secrets Manager through the
# Secrets Store CSI driver (AWS provider): NAME: secret name (`${SHOPMESH_ENV}` allowed).
# @schema {"additionalProperties": {"type": "string"}}
secretEnv: {}
mesh:
  # -- none: Dapr's mTLS, retries, circuit breakers and access control are the mesh;
  # appmesh: App Mesh resources for clusters still running it (discontinued 2026-09-30);
  # lattice: VPC Lattice through Gateway API HTTPRoutes.
  # @schema {"enum": ["none", "appmesh", "lattice"]}
  mode: none
  appmesh:
    # -- Name of the App Mesh mesh; empty: shopmesh-<environment>.
    meshName: ""
    # -- Ports whose egress Envoy must not intercept: Dapr control plane and
    # sidecar-to-sidecar (443 sentry/operator, 50001/50002 daprd gRPC, 50005
    # placement, 50006 scheduler, 3500 daprd HTTP) and the data stores daprd
    # reaches directly (5432 RDS, 6379 ElastiCache, 27017 DocumentDB, 9096 MSK SCRAM).
    # @schema {"pattern": "^[0-9]+(,[0-9]+)*$"}
    egressIgnoredPorts: "22,443,3500,50001,50002,50005,50006,5432,6379,27017,9096"
    # -- IPs whose egress Envoy must not intercept: IMDS and the EKS Pod Identity agent.
    egressIgnoredIPs: "169.254.169.254,169.254.170.23"
  lattice:
    # -- The Gateway (VPC Lattice service network) routes attach to; empty: shopmesh-<environment>, the one the platform chart creates.
    gatewayName: ""
    # -- Expose this app as a VPC Lattice service (the gateway only, by default:
    # internal apps are reached through Dapr, which enforces access control).
    expose: false
    # -- VPC Lattice's source range (managed prefix list com.amazonaws.<region>.vpc-lattice).
    sourceCIDRs: ["169.254.171.0/24"]
# The public entrance: an Ingress for the AWS Load Balancer Controller. The
# gateway's and the storefront's Ingresses join one ALB (the Ingress group
# `<groupName>-<environment>`): the gateway takes the paths of its public API,
# the storefront every other path. The ALB-wide settings (scheme, certificate,
# TLS policy, security groups, WAF, deletion protection) must be the same in
# every Ingress of the group: set them for all services, not under services.<app id>.
ingress:
  # -- Create the Ingress (an internet-facing ALB, target type ip).
  enabled: false
  # -- Host name the ALB serves, e.g. api.shop.example. Required with enabled.
  host: ""
  # -- Path prefixes the ALB sends to this app (pathType Prefix: "/api" covers /api and /api/...).
  # Whatever the order here, the controller tries the longest prefix of an Ingress first.
  # @schema {"minItems": 1, "items": {"type": "string", "pattern": "^/"}}
  paths: ["/"]
  # -- alb.ingress.kubernetes.io/group.order: the rules of the Ingress with the lower order are
  # tried first (-1000 to 1000), so a catch-all "/" (the storefront) takes a higher one.
  # @schema {"minimum": -1000, "maximum": 1000}
  groupOrder: 0
  # -- ACM certificate of the HTTPS listener. Required with enabled.
  certificateArn: ""
  # -- WAFv2 web ACL of the ALB; empty: none.
  wafAclArn: ""
  # -- Security group(s) of the ALB, comma-separated: infra/terraform's admits
  # HTTPS from CloudFront only. Empty: the controller makes one open to all.
  securityGroups: ""
  # -- ALB group: `<groupName>-<environment>`.
  groupName: shopmesh
  # -- ALB scheme.
  # @schema {"enum": ["internet-facing", "internal"]}
  scheme: internet-facing
  # -- TLS policy of the HTTPS listener.
  sslPolicy: ELBSecurityPolicy-TLS13-1-2-2021-06
  # -- Deletion protection of the ALB.
  deletionProtection: false
# The migration Job (pre-install/pre-upgrade hook, golang-migrate, migrate/).
migration:
  # -- Run it when the app has a state.postgresql component.
  enabled: true
  # -- Retries of the Job.
  # @schema {"minimum": 0}
  backoffLimit: 2
  # -- Seconds before the Job is stopped.
  # @schema {"minimum": 1}
  activeDeadlineSeconds: 600
  # -- Secrets Manager: the JSON secrets file the migrate command reads
  # ({"<app>-db-password", "<app>-store-dsn"}); `${SHOPMESH_ENV}` and {app} are replaced.
  secretsFile: shopmesh/${SHOPMESH_ENV}/{app}/migrate-secrets
  # -- Secrets Manager: the RDS master DSN the Job creates the app's role and database with.
  adminDsn: shopmesh/${SHOPMESH_ENV}/shared/rds-admin-dsn
# `helm test <release> -n shopmesh`: a pod that calls the app's /readyz through
# its Service (the platform chart's checks the CA bundle ConfigMap).
test:
  # -- Render the test pod (a helm.sh/hook test; never runs on install).
  enabled: true
  image:
    # -- Image with curl and a shell; mirror it into ECR (pull-through cache) where nodes cannot reach Docker Hub.
    repository: docker.io/curlimages/curl
    # -- Tag of the test image.
    tag: "8.16.0"
    # -- imagePullPolicy of the test pod.
    # @schema {"enum": ["Always", "IfNotPresent", "Never"]}
    pullPolicy: IfNotPresent
  # -- How often curl retries /readyz, 2 s apart (each try at most 5 s), before the test fails.
  # @schema {"minimum": 0}
  retries: 10
# -- Per-service overrides: services.<app id>.<any key above but environment,
# components and services>, so one environment file serves all charts.
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

{{/* shopmesh.podSecurity: the pods' securityContext ("restricted" Pod Security Standard), as YAML. */}}
{{- define "shopmesh.podSecurity" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* shopmesh.containerSecurity: every container's securityContext, as YAML. */}}
{{- define "shopmesh.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end -}}
