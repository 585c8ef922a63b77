{{/*
The Dapr resources come from the repository, not from copies: every chart
has files/components, files/components-alternatives and files/dapr as
symbolic links to components/aws, components/aws-alternatives and dapr/aws.
Helm follows the links when it loads or packages a chart, so a packaged chart
carries the files as they were at packaging time. Here they are read, the
environment's name is put in for ${SHOPMESH_ENV} (Dapr cannot template a
secretKeyRef) and the alternatives chosen in components.alternatives replace
the default component of the same name.
*/}}

{{/* shopmesh.docs: the YAML documents of one file (dict "root" . "path" p "env" e) as a list. */}}
{{- define "shopmesh.docs" -}}
{{- $raw := .root.Files.Get .path -}}
{{- if not $raw -}}
{{- fail (printf "%s is missing or empty: is the chart's files/ link to the repository intact?" .path) -}}
{{- end -}}
{{- $docs := list -}}
{{- range regexSplit "(?m)^---[ \t]*$" ($raw | replace "${SHOPMESH_ENV}" .env) -1 -}}
{{- $doc := fromYaml . -}}
{{- if hasKey $doc "Error" -}}
{{- fail (printf "%s: %s" $.path $doc.Error) -}}
{{- end -}}
{{- if $doc -}}
{{- $docs = append $docs $doc -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "docs" $docs) -}}
{{- end -}}

{{/*
shopmesh.sources (dict "root" . "v" values): {components, subscriptions,
configurations, resiliencies} as YAML; use with fromYaml.
*/}}
{{- define "shopmesh.sources" -}}
{{- $root := .root -}}
{{- $env := .v.environment -}}
{{- $alts := dict -}}
{{- range .v.components.alternatives -}}
{{- $path := printf "files/components-alternatives/%s.yaml" . -}}
{{- if not ($root.Files.Get $path) -}}
{{- fail (printf "components.alternatives: %s is not a file of components/aws-alternatives" .) -}}
{{- end -}}
{{- range (fromYaml (include "shopmesh.docs" (dict "root" $root "path" $path "env" $env))).docs -}}
{{- $_ := set $alts .metadata.name . -}}
{{- end -}}
{{- end -}}
{{- $components := list -}}
{{- $subscriptions := list -}}
{{- $replaced := dict -}}
{{- range $path, $_ := $root.Files.Glob "files/components/*.yaml" -}}
{{- range (fromYaml (include "shopmesh.docs" (dict "root" $root "path" $path "env" $env))).docs -}}
{{- if eq .kind "Component" -}}
{{- if hasKey $alts .metadata.name -}}
{{- $_ := set $replaced .metadata.name true -}}
{{- $components = append $components (get $alts .metadata.name) -}}
{{- else -}}
{{- $components = append $components . -}}
{{- end -}}
{{- else if eq .kind "Subscription" -}}
{{- $subscriptions = append $subscriptions . -}}
{{- else -}}
{{- fail (printf "%s: kind %s does not belong in components/aws" $path .kind) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if not $components -}}
{{- fail "files/components has no component: is the link to components/aws intact?" -}}
{{- end -}}
{{- range $name, $_ := $alts -}}
{{- if not (hasKey $replaced $name) -}}
{{- fail (printf "components.alternatives: %s replaces no component of components/aws" $name) -}}
{{- end -}}
{{- end -}}
{{- $configurations := (fromYaml (include "shopmesh.docs" (dict "root" $root "path" "files/dapr/config.yaml" "env" $env))).docs -}}
{{- $resiliencies := (fromYaml (include "shopmesh.docs" (dict "root" $root "path" "files/dapr/resiliency.yaml" "env" $env))).docs -}}
{{- toYaml (dict "components" $components "subscriptions" $subscriptions "configurations" $configurations "resiliencies" $resiliencies) -}}
{{- end -}}

{{/*
shopmesh.appComponents (dict "sources" s "id" appID): the components the app's
sidecar loads (scoped to it, or unscoped), as {components: [...]}.
*/}}
{{- define "shopmesh.appComponents" -}}
{{- $id := .id -}}
{{- $out := list -}}
{{- range .sources.components -}}
{{- if or (not .scopes) (has $id .scopes) -}}
{{- $out = append $out . -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "components" $out) -}}
{{- end -}}

{{/*
shopmesh.resource (dict "root" . "v" values "doc" d): one Dapr document as a
namespaced, labelled Kubernetes object.
*/}}
{{- define "shopmesh.resource" -}}
{{- $doc := deepCopy .doc -}}
{{- $meta := $doc.metadata -}}
{{- $_ := set $meta "namespace" .root.Release.Namespace -}}
{{- $labels := fromYaml (include "shopmesh.labels" (dict "root" .root "v" .v "id" "shopmesh-dapr")) -}}
{{- $_ = set $labels "app.kubernetes.io/component" "dapr" -}}
{{- $_ = set $meta "labels" (merge (default dict $meta.labels) $labels) -}}
{{ toYaml $doc }}
{{- end -}}
