{{/*
`helm test <release> -n shopmesh`: one pod per chart, a Helm test hook (never
created by install or upgrade), kept after it ran so that `helm test --logs`
and `kubectl logs` can show what it saw (the next run replaces it). Like every
pod of the charts it meets the "restricted" Pod Security Standard; it has no
service account token, no Dapr sidecar and no Envoy. The image (test.image)
only needs curl and a shell: mirror it where nodes cannot reach Docker Hub.
*/}}

{{/* shopmesh.testSelector (dict "id" appID): the labels a service's NetworkPolicy admits its test pod by. */}}
{{- define "shopmesh.testSelector" -}}
app.kubernetes.io/name: {{ .id }}-test
app.kubernetes.io/part-of: shopmesh
app.kubernetes.io/component: test
{{- end -}}

{{/* shopmesh.testPod (dict "root" . "v" values "name" n "id" labelID "container" c "volumes" yaml): the test pod around one container. */}}
{{- define "shopmesh.testPod" -}}
{{- $v := .v -}}
apiVersion: v1
kind: Pod
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "shopmesh.labels" (dict "root" .root "v" $v "id" .id) | nindent 4 }}
    app.kubernetes.io/component: test
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
    # A one-shot pod: no Dapr sidecar, no Envoy (neither would ever exit).
    dapr.io/enabled: "false"
    appmesh.k8s.aws/sidecarInjectorWebhook: disabled
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    {{- include "shopmesh.podSecurity" . | nindent 4 }}
  {{- with $v.scheduling.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .container }}
      image: {{ printf "%s:%s" $v.test.image.repository (toString $v.test.image.tag) | quote }}
      imagePullPolicy: {{ $v.test.image.pullPolicy }}
      {{- .command | nindent 6 }}
      securityContext:
        {{- include "shopmesh.containerSecurity" . | nindent 8 }}
      resources:
        requests:
          cpu: 10m
          memory: 16Mi
        limits:
          cpu: 100m
          memory: 32Mi
      {{- with .mounts }}
      volumeMounts:
        {{- . | nindent 8 }}
      {{- end }}
  {{- with .volumes }}
  volumes:
    {{- . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/*
shopmesh.appTest: a service's test. curl asks the app's /readyz through its
Service, as kube-proxy and the other apps reach it, retrying while the pods
come up (test.retries); the app's NetworkPolicy admits this pod on the app
port. /readyz answers 200 only while the app reaches its sidecar and what it
needs behind it.
*/}}
{{- define "shopmesh.appTest" -}}
{{- $v := fromYaml (include "shopmesh.values" .) -}}
{{- if $v.test.enabled -}}
{{- $id := include "shopmesh.required" (dict "v" $v.app.id "name" "app.id") -}}
{{- $port := include "shopmesh.required" (dict "v" $v.app.port "name" "app.port") | int -}}
{{- $url := printf "http://%s.%s.svc.cluster.local:%d/readyz" $id .Release.Namespace $port -}}
{{- $command := printf "command: [\"curl\"]\nargs: [\"--fail\", \"--silent\", \"--show-error\", \"--max-time\", \"5\", \"--retry\", %q, \"--retry-delay\", \"2\", \"--retry-connrefused\", \"--retry-all-errors\", %q]" (toString (int $v.test.retries)) $url -}}
# helm test {{ .Release.Name }}: GET {{ $url }} must answer 200.
{{ include "shopmesh.testPod" (dict "root" . "v" $v "name" (printf "%s-test-readyz" $id) "id" (printf "%s-test" $id) "container" "readyz" "command" $command) }}
{{- end -}}
{{- end -}}

{{/*
shopmesh.platformTest: the platform's test. The CA bundle ConfigMap
(caBundle.configMap), which daprd and the migration Jobs mount, must exist
(the pod does not start without it) and hold PEM certificates, whether this
release created it (caBundle.pem) or the operator did.
*/}}
{{- define "shopmesh.platformTest" -}}
{{- $v := fromYaml (include "shopmesh.values" .) -}}
{{- if $v.test.enabled -}}
{{- $command := printf "command: [\"sh\", \"-c\"]\nargs: [\"grep -q 'BEGIN CERTIFICATE' /etc/rds/global-bundle.pem && echo \\\"ConfigMap %s holds the CA bundle\\\"\"]" $v.caBundle.configMap -}}
# helm test {{ .Release.Name }}: the ConfigMap {{ $v.caBundle.configMap }} holds global-bundle.pem.
{{ include "shopmesh.testPod" (dict "root" . "v" $v "name" "shopmesh-platform-test-ca-bundle" "id" "shopmesh-platform-test" "container" "ca-bundle" "command" $command "mounts" "- name: rds-ca\n  mountPath: /etc/rds\n  readOnly: true" "volumes" (printf "- name: rds-ca\n  configMap:\n    name: %s" $v.caBundle.configMap)) }}
{{- end -}}
{{- end -}}
