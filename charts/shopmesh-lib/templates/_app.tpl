{{/*
shopmesh.app renders one ShopMesh service: every chart under charts/<app id>
is values.yaml (app.id, app.port) plus `{{ include "shopmesh.app" . }}`.

What the service needs from Dapr is read from the components it loads (those
scoped to it, or unscoped) rather than repeated in values:
  - dapr.io/env: the variables its components read with envRef, valued from daprEnv;
  - the CA bundle mounted into daprd: /etc/rds for state.postgresql (the DSN's
    sslrootcert), /etc/docdb for state.mongodb (the tlsCAFile parameter);
  - the migration Job: when it has a state.postgresql store;
  - which apps' sidecars may reach its sidecar (NetworkPolicy on :50002): the
    callers of its Dapr Configuration's access-control policies.
*/}}
{{- define "shopmesh.app" -}}
{{- $v := fromYaml (include "shopmesh.values" .) -}}
{{- $id := include "shopmesh.required" (dict "v" $v.app.id "name" "app.id") -}}
{{- $port := include "shopmesh.required" (dict "v" $v.app.port "name" "app.port") | int -}}
{{- $env := $v.environment -}}
{{- $src := fromYaml (include "shopmesh.sources" (dict "root" . "v" $v)) -}}
{{- $comps := (fromYaml (include "shopmesh.appComponents" (dict "sources" $src "id" $id))).components -}}
{{- $envNames := list -}}
{{- $postgres := false -}}
{{- $mongodb := false -}}
{{- range $comps -}}
{{- range .spec.metadata -}}
{{- if .envRef -}}
{{- $envNames = append $envNames .envRef -}}
{{- end -}}
{{- end -}}
{{- if eq .spec.type "state.postgresql" -}}
{{- $postgres = true -}}
{{- else if eq .spec.type "state.mongodb" -}}
{{- $mongodb = true -}}
{{- end -}}
{{- end -}}
{{- $daprEnv := list -}}
{{- range $envNames | uniq | sortAlpha -}}
{{- $val := toString (index $v.daprEnv .) -}}
{{- if or (not (hasKey $v.daprEnv .)) (eq $val "") -}}
{{- fail (printf "daprEnv.%s must be set: a component of %s reads it (envRef)" . $id) -}}
{{- end -}}
{{- if or (contains "=" $val) (regexMatch ",[A-Za-z_][A-Za-z0-9_]*=" $val) -}}
{{- fail (printf "daprEnv.%s: dapr.io/env values cannot contain '='" .) -}}
{{- end -}}
{{- $daprEnv = append $daprEnv (printf "%s=%s" . $val) -}}
{{- end -}}
{{- $mounts := list -}}
{{- if $postgres -}}{{- $mounts = append $mounts "rds-ca:/etc/rds" -}}{{- end -}}
{{- if $mongodb -}}{{- $mounts = append $mounts "docdb-ca:/etc/docdb" -}}{{- end -}}
{{- $config := dict -}}
{{- range $src.configurations -}}
{{- if eq .metadata.name (printf "shopmesh-%s" $id) -}}
{{- $config = . -}}
{{- end -}}
{{- end -}}
{{- if not $config -}}
{{- fail (printf "dapr/aws/config.yaml has no Configuration shopmesh-%s" $id) -}}
{{- end -}}
{{- $callers := list -}}
{{- range (($config.spec).accessControl).policies -}}
{{- $callers = append $callers .appId -}}
{{- end -}}
{{- $migrate := and $postgres $v.migration.enabled -}}
{{- $region := include "shopmesh.required" (dict "v" $v.aws.region "name" "aws.region") -}}
{{- $roleArn := $v.serviceAccount.roleArn -}}
{{- if not $roleArn -}}
{{- $account := include "shopmesh.required" (dict "v" $v.aws.accountId "name" "aws.accountId (or serviceAccount.roleArn)") -}}
{{- if not (regexMatch "^[0-9]{12}$" (toString $account)) -}}
{{- fail (printf "aws.accountId must be 12 digits in quotes, not %v" $account) -}}
{{- end -}}
{{- $roleArn = printf "arn:aws:iam::%s:role/%s-%s-%s" (toString $account) $v.aws.iamRolePrefix $env $id -}}
{{- end -}}
{{- $registry := include "shopmesh.required" (dict "v" $v.image.registry "name" "image.registry") -}}
{{- $tag := include "shopmesh.required" (dict "v" (toString $v.image.tag) "name" "image.tag") -}}
{{- $ctx := dict "root" . "v" $v "id" $id -}}
{{- $labels := include "shopmesh.labels" $ctx -}}
{{- $selector := include "shopmesh.selector" $ctx -}}
{{- $apiToken := printf "%s-dapr-api-token" $id -}}
{{- $appToken := printf "%s-dapr-app-token" $id -}}
{{- $meshName := $v.mesh.appmesh.meshName | default (printf "shopmesh-%s" $env) -}}
{{- $podSecurity := fromYaml (include "shopmesh.podSecurity" .) -}}
{{- $containerSecurity := fromYaml (include "shopmesh.containerSecurity" .) -}}
{{- $secretEnv := dict -}}
{{- range $name, $secret := $v.secretEnv -}}
{{- $_ := set $secretEnv $name ($secret | replace "${SHOPMESH_ENV}" $env) -}}
{{- end -}}
{{- if and $v.ingress.enabled $v.networkPolicy.enabled (not $v.networkPolicy.albSourceCIDRs) -}}
{{- fail "networkPolicy.albSourceCIDRs must list the public subnets: without them the NetworkPolicy keeps the ALB out" -}}
{{- end -}}
# Dapr Configuration shopmesh-{{ $id }} (dapr/aws/config.yaml): mTLS, tracing,
# metrics and who may invoke this app.
{{ include "shopmesh.resource" (dict "root" . "v" $v "doc" $config) }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
  annotations:
    # IRSA: daprd (not the app) calls AWS with this role (Secrets Manager,
    # DynamoDB, SES…); infra/terraform/modules/irsa trusts this account.
    eks.amazonaws.com/role-arn: {{ $roleArn | quote }}
    eks.amazonaws.com/sts-regional-endpoints: "true"
{{- if $v.dapr.createTokenSecrets }}
{{- range $name := list $apiToken $appToken }}
{{- $existing := lookup "v1" "Secret" $.Release.Namespace $name }}
---
# {{ if eq $name $apiToken }}DAPR_API_TOKEN: the app authenticates to its sidecar{{ else }}APP_API_TOKEN: the sidecar authenticates to the app{{ end }}.
# Random, kept across upgrades and uninstalls (resource-policy keep).
apiVersion: v1
kind: Secret
metadata:
  name: {{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
  annotations:
    helm.sh/resource-policy: keep
type: Opaque
data:
  token: {{ if and $existing $existing.data }}{{ index $existing.data "token" }}{{ else }}{{ randAlphaNum 48 | b64enc }}{{ end }}
{{- end }}
{{- end }}
{{- if $secretEnv }}
---
# The app's secrets from Secrets Manager (Secrets Store CSI driver, AWS
# provider), synced into the Secret {{ $id }}-env while a pod mounts them.
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: {{ $id }}-env
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  provider: aws
  parameters:
    region: {{ $region | quote }}
    objects: |
      {{- range $name, $secret := $secretEnv }}
      - objectName: {{ $secret | quote }}
        objectType: secretsmanager
        objectAlias: {{ $name | quote }}
      {{- end }}
  secretObjects:
    - secretName: {{ $id }}-env
      type: Opaque
      data:
        {{- range $name, $_ := $secretEnv }}
        - objectName: {{ $name | quote }}
          key: {{ $name | quote }}
        {{- end }}
{{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- $labels | nindent 8 }}
      annotations:
        dapr.io/enabled: "true"
        dapr.io/app-id: {{ $id | quote }}
        # daprd delivers invocations, subscribed events and health checks here.
        dapr.io/app-port: {{ $port | quote }}
        dapr.io/app-protocol: http
        dapr.io/config: {{ printf "shopmesh-%s" $id | quote }}
        dapr.io/log-level: {{ $v.dapr.logLevel | quote }}
        dapr.io/log-as-json: "true"
        dapr.io/enable-metrics: "true"
        dapr.io/metrics-port: "9090"
        dapr.io/sidecar-cpu-request: {{ $v.dapr.sidecar.cpuRequest | quote }}
        dapr.io/sidecar-cpu-limit: {{ $v.dapr.sidecar.cpuLimit | quote }}
        dapr.io/sidecar-memory-request: {{ $v.dapr.sidecar.memoryRequest | quote }}
        dapr.io/sidecar-memory-limit: {{ $v.dapr.sidecar.memoryLimit | quote }}
        dapr.io/sidecar-seccomp-profile-type: RuntimeDefault
        dapr.io/api-token-secret: {{ $apiToken | quote }}
        dapr.io/app-token-secret: {{ $appToken | quote }}
        dapr.io/enable-app-health-check: "true"
        dapr.io/app-health-check-path: /healthz
        dapr.io/graceful-shutdown-seconds: {{ $v.dapr.gracefulShutdownSeconds | quote }}
        {{- if $daprEnv }}
        # Only these variables are readable by the components' envRef (DAPR_ENV_KEYS).
        dapr.io/env: {{ join "," $daprEnv | quote }}
        {{- end }}
        {{- if $mounts }}
        dapr.io/volume-mounts: {{ join "," $mounts | quote }}
        {{- end }}
        {{- if eq $v.mesh.mode "appmesh" }}
        # App Mesh's Envoy takes the app port only; daprd's own traffic and the
        # data stores it reaches bypass Envoy.
        appmesh.k8s.aws/ports: {{ $port | quote }}
        appmesh.k8s.aws/egressIgnoredPorts: {{ $v.mesh.appmesh.egressIgnoredPorts | quote }}
        appmesh.k8s.aws/egressIgnoredIPs: {{ $v.mesh.appmesh.egressIgnoredIPs | quote }}
        {{- end }}
    spec:
      serviceAccountName: {{ $id }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $podSecurity | nindent 8 }}
      {{- with $v.scheduling.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if and $v.spot.enabled (not $v.scheduling.critical) }}
      # Not critical: may run on (and prefers) the tainted spot node group.
      tolerations:
        - key: {{ $v.spot.taintKey | quote }}
          operator: Exists
          effect: NoSchedule
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              preference:
                matchExpressions:
                  - key: {{ $v.spot.capacityTypeLabel | quote }}
                    operator: In
                    values: ["SPOT"]
      {{- end }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: topology.kubernetes.io/zone
          whenUnsatisfiable: {{ $v.topologySpread.zone }}
          labelSelector:
            matchLabels:
              {{- $selector | nindent 14 }}
          matchLabelKeys: ["pod-template-hash"]
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: {{ $v.topologySpread.node }}
          labelSelector:
            matchLabels:
              {{- $selector | nindent 14 }}
          matchLabelKeys: ["pod-template-hash"]
      containers:
        - name: app
          image: {{ printf "%s/%s/%s:%s" $registry $v.image.repositoryPrefix $id $tag | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $port }}
              protocol: TCP
          env:
            - name: APP_ID
              value: {{ $id | quote }}
            - name: APP_PORT
              value: {{ $port | quote }}
            # The pod IP: kubelet probes (and the ALB, for the gateway) reach the app.
            - name: LISTEN_HOST
              value: 0.0.0.0
            - name: SHOPMESH_ENV
              value: {{ $env | quote }}
            - name: LOG_LEVEL
              value: {{ $v.logLevel | quote }}
            - name: OTEL_EXPORTER_OTLP_ENDPOINT
              value: {{ $v.tracing.otlpEndpoint | quote }}
            - name: OTEL_TRACES_SAMPLER_ARG
              value: {{ $v.tracing.samplerRatio | quote }}
            - name: AWS_REGION
              value: {{ $region | quote }}
            - name: DAPR_API_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ $apiToken }}
                  key: token
            - name: APP_API_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ $appToken }}
                  key: token
            {{- range $name, $value := $v.env }}
            - name: {{ $name }}
              value: {{ toString $value | quote }}
            {{- end }}
            {{- range $name, $_ := $secretEnv }}
            - name: {{ $name }}
              valueFrom:
                secretKeyRef:
                  name: {{ $id }}-env
                  key: {{ $name }}
            {{- end }}
          securityContext:
            {{- toYaml $containerSecurity | nindent 12 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          # /readyz fails while the sidecar (or another dependency) is unreachable.
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: 3
          lifecycle:
            # Let the ALB and kube-proxy stop sending before the app drains.
            preStop:
              sleep:
                seconds: 5
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $secretEnv }}
            - name: aws-secrets
              mountPath: /var/run/secrets/shopmesh
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- if $postgres }}
        # Mounted into daprd by dapr.io/volume-mounts.
        - name: rds-ca
          configMap:
            name: {{ $v.caBundle.configMap }}
        {{- end }}
        {{- if $mongodb }}
        - name: docdb-ca
          configMap:
            name: {{ $v.caBundle.configMap }}
        {{- end }}
        {{- if $secretEnv }}
        - name: aws-secrets
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes:
              secretProviderClass: {{ $id }}-env
        {{- end }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- $selector | nindent 4 }}
  ports:
    - name: http
      port: {{ $port }}
      targetPort: http
      protocol: TCP
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $id }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  # The app container only: daprd's usage says little about the app's load.
  metrics:
    - type: ContainerResource
      containerResource:
        name: cpu
        container: app
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
    - type: ContainerResource
      containerResource:
        name: memory
        container: app
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetMemoryUtilizationPercentage }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
{{- end }}
{{- if $v.pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  # maxUnavailable, not minAvailable: a single replica (dev) must not block node drains.
  maxUnavailable: {{ $v.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- $selector | nindent 6 }}
{{- end }}
{{- if $v.networkPolicy.enabled }}
---
# Ingress only (egress goes to AWS endpoints, whose addresses change: use
# security groups there). The app port is reached by its own sidecar over
# loopback, which no NetworkPolicy sees.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- $selector | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    {{- if $callers }}
    # Service invocation: the callers' sidecars to this sidecar's internal gRPC
    # port (dapr/aws/config.yaml: shopmesh-{{ $id }}).
    - from:
        - podSelector:
            matchExpressions:
              - key: app.kubernetes.io/name
                operator: In
                values: {{ toJson $callers }}
              - key: app.kubernetes.io/part-of
                operator: In
                values: ["shopmesh"]
      ports:
        - port: 50002
          protocol: TCP
    {{- end }}
    # Prometheus: the app's /metrics and daprd's metrics.
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $v.networkPolicy.metricsNamespace | quote }}
      ports:
        - port: http
          protocol: TCP
        - port: 9090
          protocol: TCP
    {{- with $v.networkPolicy.httpClients }}
    # Apps that call this app's port over plain HTTP, outside Dapr
    # (networkPolicy.httpClients: the storefront calls the gateway's public API).
    - from:
        - podSelector:
            matchExpressions:
              - key: app.kubernetes.io/name
                operator: In
                values: {{ toJson . }}
              - key: app.kubernetes.io/part-of
                operator: In
                values: ["shopmesh"]
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- if $v.ingress.enabled }}
    # The ALB (target type ip) from the public subnets.
    - from:
        {{- range $v.networkPolicy.albSourceCIDRs }}
        - ipBlock:
            cidr: {{ . | quote }}
        {{- end }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- if and (eq $v.mesh.mode "lattice") $v.mesh.lattice.expose }}
    # VPC Lattice's data plane.
    - from:
        {{- range $v.mesh.lattice.sourceCIDRs }}
        - ipBlock:
            cidr: {{ . | quote }}
        {{- end }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- if $v.test.enabled }}
    # helm test: the test pod asks /readyz through the Service.
    - from:
        - podSelector:
            matchLabels:
              {{- include "shopmesh.testSelector" (dict "id" $id) | nindent 14 }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- with $v.networkPolicy.probeSourceCIDRs }}
    # kubelet: the app's probes and daprd's health port.
    - from:
        {{- range . }}
        - ipBlock:
            cidr: {{ . | quote }}
        {{- end }}
      ports:
        - port: http
          protocol: TCP
        - port: 3501
          protocol: TCP
    {{- end }}
{{- end }}
{{- if $v.ingress.enabled }}
{{- $metricsRouted := false }}
{{- range $v.ingress.paths }}
{{- if hasPrefix (printf "%s/" (trimSuffix "/" .)) "/metrics/" }}{{ $metricsRouted = true }}{{ end }}
{{- end }}
---
# The public entrance: an internet-facing ALB (AWS Load Balancer Controller)
# sending to the pods directly (target type ip); CloudFront and WAF sit in front.
# One ALB for the environment: every Ingress of the group {{ printf "%s-%s" $v.ingress.groupName $env }} adds its
# paths to it, tried in group order (the gateway's API paths, then the
# storefront's catch-all "/"). An Ingress group rather than one Ingress with
# both backends: each chart keeps its own Service, health check and release,
# and the gateway's API needs no storefront installed.
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
  annotations:
    alb.ingress.kubernetes.io/scheme: {{ $v.ingress.scheme }}
    alb.ingress.kubernetes.io/target-type: ip
    alb.ingress.kubernetes.io/group.name: {{ printf "%s-%s" $v.ingress.groupName $env | quote }}
    alb.ingress.kubernetes.io/group.order: {{ $v.ingress.groupOrder | quote }}
    alb.ingress.kubernetes.io/listen-ports: '[{"HTTP": 80}, {"HTTPS": 443}]'
    alb.ingress.kubernetes.io/ssl-redirect: "443"
    alb.ingress.kubernetes.io/certificate-arn: {{ include "shopmesh.required" (dict "v" $v.ingress.certificateArn "name" "ingress.certificateArn") | quote }}
    alb.ingress.kubernetes.io/ssl-policy: {{ $v.ingress.sslPolicy | quote }}
    alb.ingress.kubernetes.io/backend-protocol: HTTP
    alb.ingress.kubernetes.io/healthcheck-path: /readyz
    alb.ingress.kubernetes.io/success-codes: "200"
    alb.ingress.kubernetes.io/load-balancer-attributes: {{ printf "routing.http.drop_invalid_header_fields.enabled=true,idle_timeout.timeout_seconds=60,deletion_protection.enabled=%t" $v.ingress.deletionProtection | quote }}
    alb.ingress.kubernetes.io/target-group-attributes: deregistration_delay.timeout_seconds=30
    {{- with $v.ingress.securityGroups }}
    alb.ingress.kubernetes.io/security-groups: {{ . | quote }}
    alb.ingress.kubernetes.io/manage-backend-security-group-rules: "true"
    {{- end }}
    {{- with $v.ingress.wafAclArn }}
    alb.ingress.kubernetes.io/wafv2-acl-arn: {{ . | quote }}
    {{- end }}
    alb.ingress.kubernetes.io/tags: {{ printf "Application=shopmesh,Environment=%s" $env | quote }}
    {{- if $metricsRouted }}
    # /metrics is scraped inside the cluster; from outside it is not found.
    alb.ingress.kubernetes.io/actions.metrics-not-found: '{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"404","messageBody":"404 page not found"}}'
    {{- end }}
spec:
  ingressClassName: alb
  rules:
    - host: {{ include "shopmesh.required" (dict "v" $v.ingress.host "name" "ingress.host") | quote }}
      http:
        paths:
          {{- if $metricsRouted }}
          - path: /metrics
            pathType: Exact
            backend:
              service:
                name: metrics-not-found
                port:
                  name: use-annotation
          {{- end }}
          {{- range $v.ingress.paths }}
          - path: {{ . | quote }}
            pathType: Prefix
            backend:
              service:
                name: {{ $id }}
                port:
                  name: http
          {{- end }}
{{- end }}
{{- if eq $v.mesh.mode "appmesh" }}
---
# App Mesh (discontinued by AWS on 2026-09-30; for clusters still running it).
# The apps reach each other through Dapr, whose ports bypass Envoy, so the
# nodes declare no backends: the mesh carries traffic to the app port only.
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualNode
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  meshRef:
    name: {{ $meshName }}
  podSelector:
    matchLabels:
      {{- $selector | nindent 6 }}
  listeners:
    - portMapping:
        port: {{ $port }}
        protocol: http
      healthCheck:
        protocol: http
        path: /readyz
        healthyThreshold: 2
        unhealthyThreshold: 3
        timeoutMillis: 3000
        intervalMillis: 10000
  serviceDiscovery:
    dns:
      hostname: {{ printf "%s.%s.svc.cluster.local" $id .Release.Namespace }}
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualRouter
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  meshRef:
    name: {{ $meshName }}
  listeners:
    - portMapping:
        port: {{ $port }}
        protocol: http
  routes:
    - name: {{ $id }}
      httpRoute:
        match:
          prefix: /
        action:
          weightedTargets:
            - virtualNodeRef:
                name: {{ $id }}
              weight: 1
---
apiVersion: appmesh.k8s.aws/v1beta2
kind: VirtualService
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  meshRef:
    name: {{ $meshName }}
  awsName: {{ printf "%s.%s.svc.cluster.local" $id .Release.Namespace }}
  provider:
    virtualRouter:
      virtualRouterRef:
        name: {{ $id }}
{{- end }}
{{- if and (eq $v.mesh.mode "lattice") $v.mesh.lattice.expose }}
---
# A VPC Lattice service for this app (AWS Gateway API Controller), attached to
# the service network of the platform chart's Gateway.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {{ $id }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  parentRefs:
    - name: {{ $v.mesh.lattice.gatewayName | default (printf "shopmesh-%s" $env) }}
      sectionName: http
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
      backendRefs:
        - name: {{ $id }}
          kind: Service
          port: {{ $port }}
{{- end }}
{{- if $migrate }}
{{- include "shopmesh.migration" (dict "root" . "v" $v "id" $id "labels" $labels "roleArn" $roleArn "region" $region "registry" $registry "tag" $tag "podSecurity" $podSecurity "containerSecurity" $containerSecurity) }}
{{- end }}
{{- end -}}
