{{/*
shopmesh.platform renders what the namespace shares, installed once before
the services (charts/shopmesh-platform): every Dapr Component (and
Subscription) of components/aws with the chosen alternatives, the Resiliency
of dapr/aws, the CA bundle daprd reads for RDS and DocumentDB, a default-deny
ingress NetworkPolicy, and the mesh-wide object of the chosen mesh mode.
*/}}
{{- define "shopmesh.platform" -}}
{{- $v := fromYaml (include "shopmesh.values" .) -}}
{{- $env := $v.environment -}}
{{- $src := fromYaml (include "shopmesh.sources" (dict "root" . "v" $v)) -}}
{{- $labels := include "shopmesh.labels" (dict "root" . "v" $v "id" "shopmesh-platform") -}}
{{- range $src.components }}
---
# Component {{ .metadata.name }} (components/aws, ${SHOPMESH_ENV}={{ $env }}).
{{ include "shopmesh.resource" (dict "root" $ "v" $v "doc" .) }}
{{- end }}
{{- range $src.subscriptions }}
---
{{ include "shopmesh.resource" (dict "root" $ "v" $v "doc" .) }}
{{- end }}
{{- range $src.resiliencies }}
---
# Resiliency {{ .metadata.name }} (dapr/aws/resiliency.yaml).
{{ include "shopmesh.resource" (dict "root" $ "v" $v "doc" .) }}
{{- end }}
{{- with $v.caBundle.pem }}
---
# The Amazon RDS/DocumentDB CA bundle (https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem),
# given with --set-file caBundle.pem=global-bundle.pem.
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ $v.caBundle.configMap }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
data:
  global-bundle.pem: |
    {{- . | nindent 4 }}
{{- end }}
{{- if $v.networkPolicy.enabled }}
---
# Nothing reaches a pod of the namespace unless a service's own policy lets it.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  podSelector: {}
  policyTypes: ["Ingress"]
{{- end }}
{{- if eq $v.mesh.mode "appmesh" }}
---
# The App Mesh mesh of this environment (cluster-scoped). Label the namespace
# with mesh={{ $v.mesh.appmesh.meshName | default (printf "shopmesh-%s" $env) }} and
# appmesh.k8s.aws/sidecarInjectorWebhook=enabled (docs/deploy-aws.md).
apiVersion: appmesh.k8s.aws/v1beta2
kind: Mesh
metadata:
  name: {{ $v.mesh.appmesh.meshName | default (printf "shopmesh-%s" $env) }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  namespaceSelector:
    matchLabels:
      mesh: {{ $v.mesh.appmesh.meshName | default (printf "shopmesh-%s" $env) }}
  egressFilter:
    type: ALLOW_ALL
{{- end }}
{{- if eq $v.mesh.mode "lattice" }}
---
# The VPC Lattice service network of this environment (AWS Gateway API
# Controller, GatewayClass amazon-vpc-lattice); services attach HTTPRoutes.
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: {{ $v.mesh.lattice.gatewayName | default (printf "shopmesh-%s" $env) }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- $labels | nindent 4 }}
spec:
  gatewayClassName: amazon-vpc-lattice
  listeners:
    - name: http
      protocol: HTTP
      port: 80
      allowedRoutes:
        namespaces:
          from: Same
{{- end }}
{{- end -}}
