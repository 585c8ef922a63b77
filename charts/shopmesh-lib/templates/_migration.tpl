{{/*
shopmesh.migration: the golang-migrate step (the migrate command, migrate/) as
a Helm hook that runs before every install and upgrade of the service, so the
database, its role and the Dapr state tables exist before a new sidecar
connects. With the RDS master DSN it first ensures the app's role and
database (migrate -admin-dsn), then applies migrate/sql/<app>/ as that role.

Secrets come from Secrets Manager through the Secrets Store CSI driver (AWS
provider): the secrets file the command reads (JSON {"<app>-db-password",
"<app>-store-dsn"}) is mounted as a file; the master DSN is synced into a
Secret for the environment. The hook has its own ServiceAccount (hooks run
before the release's resources exist) bound to the app's IAM role.
*/}}
{{- define "shopmesh.migration" -}}
{{- $v := .v -}}
{{- $id := .id -}}
{{- $env := $v.environment -}}
{{- $name := printf "%s-migrate" $id -}}
{{- $secretsFile := $v.migration.secretsFile | replace "${SHOPMESH_ENV}" $env | replace "{app}" $id -}}
{{- $adminDsn := $v.migration.adminDsn | replace "${SHOPMESH_ENV}" $env | replace "{app}" $id }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
    app.kubernetes.io/component: migration
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-20"
    helm.sh/hook-delete-policy: before-hook-creation
    eks.amazonaws.com/role-arn: {{ .roleArn | quote }}
    eks.amazonaws.com/sts-regional-endpoints: "true"
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
    app.kubernetes.io/component: migration
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-20"
    helm.sh/hook-delete-policy: before-hook-creation
spec:
  provider: aws
  parameters:
    region: {{ .region | quote }}
    objects: |
      - objectName: {{ $secretsFile | quote }}
        objectType: secretsmanager
        objectAlias: secrets.json
      - objectName: {{ $adminDsn | quote }}
        objectType: secretsmanager
        objectAlias: admin-dsn
  secretObjects:
    - secretName: {{ $name }}
      type: Opaque
      data:
        - objectName: admin-dsn
          key: admin-dsn
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ $name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- .labels | nindent 4 }}
    app.kubernetes.io/component: migration
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $v.migration.backoffLimit }}
  activeDeadlineSeconds: {{ $v.migration.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: 86400
  template:
    metadata:
      labels:
        {{- .labels | nindent 8 }}
        app.kubernetes.io/component: migration
      annotations:
        # A one-shot pod: no Dapr sidecar, no Envoy (neither would ever exit).
        dapr.io/enabled: "false"
        appmesh.k8s.aws/sidecarInjectorWebhook: disabled
    spec:
      serviceAccountName: {{ $name }}
      restartPolicy: Never
      securityContext:
        {{- toYaml .podSecurity | nindent 8 }}
      containers:
        - name: migrate
          image: {{ printf "%s/%s/migrate:%s" .registry $v.image.repositoryPrefix .tag | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args:
            - -services
            - {{ $id }}
            - -secrets-file
            - /var/run/secrets/shopmesh/secrets.json
          env:
            - name: MIGRATE_ADMIN_DSN
              valueFrom:
                secretKeyRef:
                  name: {{ $name }}
                  key: admin-dsn
          securityContext:
            {{- toYaml .containerSecurity | nindent 12 }}
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
            limits:
              cpu: 500m
              memory: 128Mi
          volumeMounts:
            - name: secrets
              mountPath: /var/run/secrets/shopmesh
              readOnly: true
            # The DSNs verify the server: sslrootcert=/etc/rds/global-bundle.pem.
            - name: rds-ca
              mountPath: /etc/rds
              readOnly: true
      volumes:
        - name: secrets
          csi:
            driver: secrets-store.csi.k8s.io
            readOnly: true
            volumeAttributes:
              secretProviderClass: {{ $name }}
        - name: rds-ca
          configMap:
            name: {{ $v.caBundle.configMap }}
{{- end -}}
