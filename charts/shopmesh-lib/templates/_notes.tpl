{{/*
The charts' NOTES.txt (printed by helm install and upgrade, and by
`helm status`): what to check after an install, with the release's names.
*/}}

{{/* shopmesh.notes: a service chart's notes. */}}
{{- define "shopmesh.notes" -}}
{{- $v := fromYaml (include "shopmesh.values" .) -}}
{{- $id := $v.app.id -}}
{{- $port := $v.app.port | int -}}
{{- $ns := .Release.Namespace -}}
{{- $sel := printf "app.kubernetes.io/name=%s,app.kubernetes.io/part-of=shopmesh" $id -}}
{{- $src := fromYaml (include "shopmesh.sources" (dict "root" . "v" $v)) -}}
{{- $postgres := false -}}
{{- range (fromYaml (include "shopmesh.appComponents" (dict "sources" $src "id" $id))).components -}}
{{- if eq .spec.type "state.postgresql" }}{{ $postgres = true }}{{ end -}}
{{- end -}}
ShopMesh {{ $id }} ({{ $v.environment }}): release {{ .Release.Name }}, revision {{ .Release.Revision }}, namespace {{ $ns }},
image {{ printf "%s/%s/%s:%s" $v.image.registry $v.image.repositoryPrefix $id (toString $v.image.tag) }}.

Check it:

- Pods ready, each 2/2 (the app and its Dapr sidecar), {{ if $v.autoscaling.enabled }}{{ $v.autoscaling.minReplicas }} to {{ $v.autoscaling.maxReplicas }} replicas (HPA {{ $id }}){{ else }}{{ $v.replicas }} replica(s){{ end }}:
    kubectl -n {{ $ns }} rollout status deployment/{{ $id }} --timeout 10m
    kubectl -n {{ $ns }} get pods -l {{ $sel }}
- The Dapr sidecar injected: every pod lists the containers app and daprd (no daprd: is
  the Dapr control plane running? kubectl -n dapr-system get pods), and daprd loaded its
  components without errors:
    kubectl -n {{ $ns }} get pods -l {{ $sel }} -o jsonpath='{range .items[*]}{.metadata.name}{": "}{.spec.containers[*].name}{"\n"}{end}'
    kubectl -n {{ $ns }} logs deploy/{{ $id }} -c daprd | grep -iE 'error|fatal'
- /readyz answers 200 (it fails while the sidecar, or what the app needs behind it, is unreachable):
{{- if $v.test.enabled }}
    helm test {{ .Release.Name }} -n {{ $ns }} --logs
  (the pod {{ $id }}-test-readyz asks http://{{ $id }}.{{ $ns }}.svc.cluster.local:{{ $port }}/readyz), or by hand:
{{- end }}
    kubectl -n {{ $ns }} get endpointslices -l kubernetes.io/service-name={{ $id }}   # ready pods only
    kubectl -n {{ $ns }} get events --field-selector reason=Unhealthy          # failed probes, with the status
{{- if and $postgres $v.migration.enabled }}
- The migration Job {{ $id }}-migrate ran first (a pre-install/pre-upgrade hook, deleted once
  it succeeded; a failed one stays for its logs):
    kubectl -n {{ $ns }} logs job/{{ $id }}-migrate
{{- end }}
- Logs: the app and daprd log JSON to stdout,
    kubectl -n {{ $ns }} logs deploy/{{ $id }} -c app
  and Container Insights ships them to CloudWatch Logs, /aws/containerinsights/<cluster>/application.
- Traces: the app sends its spans to {{ $v.tracing.otlpEndpoint }} (keeping {{ $v.tracing.samplerRatio }} of new
  traces), daprd its own per the Dapr Configuration shopmesh-{{ $id }}; the collector sends them to
  X-Ray (or Datadog). Metrics (/metrics, daprd's :9090) end on the CloudWatch dashboard <name>-overview.
{{- if $v.ingress.enabled }}
- The public address: the ALB of the Ingress {{ $id }}, shared by the Ingress group
  {{ printf "%s-%s" $v.ingress.groupName $v.environment }} (a few minutes after the first install; the AWS Load Balancer Controller must run):
    kubectl -n {{ $ns }} get ingress {{ $id }} -o jsonpath='{.status.loadBalancer.ingress[0].hostname}{"\n"}'
  It sends {{ join ", " $v.ingress.paths }} of https://{{ $v.ingress.host }}/ to {{ $id }} (group order {{ $v.ingress.groupOrder }}) once
  DNS points there: apply Terraform again with alb = { dns_name, zone_id, arn_suffix } (docs/deploy-aws.md,
  section 3). Its security group admits CloudFront only: try those paths through the shop's domain,
  and see whether the ALB finds the pods healthy (its health check asks /readyz):
    kubectl -n {{ $ns }} get targetgroupbindings -o wide
    aws elbv2 describe-target-health --target-group-arn <the ARN of the binding of service {{ $id }}>
{{- end }}
{{- if eq $v.mesh.mode "appmesh" }}
- App Mesh: the pods also carry envoy; the mesh objects:
    kubectl -n {{ $ns }} get virtualnodes,virtualrouters,virtualservices {{ $id }}
{{- else if and (eq $v.mesh.mode "lattice") $v.mesh.lattice.expose }}
- VPC Lattice: the HTTPRoute {{ $id }} must be Accepted by the Gateway {{ $v.mesh.lattice.gatewayName | default (printf "shopmesh-%s" $v.environment) }}:
    kubectl -n {{ $ns }} get httproute {{ $id }} -o jsonpath='{.status.parents[*].conditions}'
{{- end }}

Every setting and its default: helm show values charts/{{ .Chart.Name }} (or its README.md).
{{- end -}}

{{/* shopmesh.platformNotes: the platform chart's notes. */}}
{{- define "shopmesh.platformNotes" -}}
{{- $v := fromYaml (include "shopmesh.values" .) -}}
{{- $ns := .Release.Namespace -}}
{{- $src := fromYaml (include "shopmesh.sources" (dict "root" . "v" $v)) -}}
ShopMesh platform ({{ $v.environment }}): release {{ .Release.Name }}, revision {{ .Release.Revision }}, namespace {{ $ns }}:
{{ len $src.components }} Dapr Components{{ with $v.components.alternatives }} (alternatives: {{ join ", " . }}){{ end }}, {{ len $src.subscriptions }} Subscriptions, the Resiliency,
{{- if $v.caBundle.pem }} the CA bundle ConfigMap {{ $v.caBundle.configMap }},{{ end }}
{{- if $v.networkPolicy.enabled }} the default-deny NetworkPolicy,{{ end }} mesh mode {{ $v.mesh.mode }}.

Check it:

- The Dapr resources (each service's daprd loads them when it starts):
    kubectl -n {{ $ns }} get components.dapr.io,subscriptions.dapr.io,resiliencies.dapr.io
- The CA bundle daprd and the migration Jobs mount{{ if not $v.caBundle.pem }} (caBundle.pem was empty: create
  the ConfigMap {{ $v.caBundle.configMap }} yourself, docs/deploy-aws.md section 2){{ end }}:
{{- if $v.test.enabled }}
    helm test {{ .Release.Name }} -n {{ $ns }} --logs
  (the pod shopmesh-platform-test-ca-bundle checks that {{ $v.caBundle.configMap }} holds certificates), or:
{{- end }}
    kubectl -n {{ $ns }} get configmap {{ $v.caBundle.configMap }}
{{- if eq $v.mesh.mode "appmesh" }}
- App Mesh: the Mesh {{ $v.mesh.appmesh.meshName | default (printf "shopmesh-%s" $v.environment) }}; label the namespace for it:
    kubectl get mesh {{ $v.mesh.appmesh.meshName | default (printf "shopmesh-%s" $v.environment) }}
    kubectl label namespace {{ $ns }} mesh={{ $v.mesh.appmesh.meshName | default (printf "shopmesh-%s" $v.environment) }} appmesh.k8s.aws/sidecarInjectorWebhook=enabled
{{- else if eq $v.mesh.mode "lattice" }}
- VPC Lattice: the Gateway {{ $v.mesh.lattice.gatewayName | default (printf "shopmesh-%s" $v.environment) }} must be Programmed:
    kubectl -n {{ $ns }} get gateway {{ $v.mesh.lattice.gatewayName | default (printf "shopmesh-%s" $v.environment) }}
{{- end }}
- A component that fails to initialise shows in the daprd logs of the services that load it:
    kubectl -n {{ $ns }} logs deploy/<app> -c daprd | grep -iE 'error|fatal'

Next: install the services (users catalog inventory orders payments notifications search,
then the gateway, and the storefront last, once `go tool task deploy:assets` has uploaded its
assets) with the same -f files, and `helm test` each (docs/deploy-aws.md, section 3).
Every setting and its default: helm show values charts/{{ .Chart.Name }} (or its README.md).
{{- end -}}
