{{/* Name of an object of service `svc` (a key of .Values.services). */}}
{{- define "doan.name" -}}
{{- printf "%s-%s" .root.Release.Name .svc | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "doan.labels" -}}
app.kubernetes.io/name: doan
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .svc }}
app.kubernetes.io/part-of: doan
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{/* Labels that select the pods of one service. */}}
{{- define "doan.selector" -}}
app.kubernetes.io/name: doan
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .svc }}
{{- end -}}

{{- define "doan.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* Upper-case configuration section of a service: DOAN__<SECTION>__KEY. */}}
{{- define "doan.section" -}}
{{- upper .svc -}}
{{- end -}}

{{/* Hardened security context of every container. */}}
{{- define "doan.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment shared by every process: telemetry, tokens. */}}
{{- define "doan.commonEnv" -}}
- name: DOAN__TELEMETRY__LOG_FORMAT
  value: {{ .Values.telemetry.logFormat | quote }}
- name: DOAN__TELEMETRY__LOG_LEVEL
  value: {{ .Values.telemetry.logLevel | quote }}
{{- with .Values.telemetry.otlpEndpoint }}
- name: DOAN__TELEMETRY__OTLP_ENDPOINT
  value: {{ . | quote }}
{{- end }}
- name: DOAN__AUTH__ISSUER
  value: {{ .Values.auth.issuer | quote }}
- name: DOAN__AUTH__VERIFYING_KEY_PEM
  valueFrom:
    secretKeyRef: {name: {{ .Values.auth.existingSecret }}, key: verifying-key.pem}
{{- end -}}

{{/* Environment of the domain services: the broker. */}}
{{- define "doan.brokerEnv" -}}
- name: DOAN__BROKER__URL
  valueFrom:
    secretKeyRef: {name: {{ .Values.broker.existingSecret }}, key: url}
- name: DOAN__BROKER__EXCHANGE
  value: {{ .Values.broker.exchange | quote }}
- name: DOAN__BROKER__QUEUE_PREFIX
  value: {{ .Values.broker.queuePrefix | quote }}
- name: DOAN__BROKER__QUEUE_TYPE
  value: {{ ternary "quorum" "classic" .Values.broker.quorumQueues | quote }}
- name: DOAN__BROKER__MAX_ATTEMPTS
  value: {{ .Values.broker.maxAttempts | quote }}
- name: DOAN__BROKER__RETRY_BASE_MS
  value: {{ .Values.broker.retryBaseMs | quote }}
- name: DOAN__BROKER__PREFETCH
  value: {{ .Values.broker.prefetch | quote }}
{{- end -}}

{{/* Database URLs of every domain service (for `doan migrate`). */}}
{{- define "doan.databaseEnv" -}}
{{- range $svc := list "membership" "activities" "awards" "notifications" }}
- name: DOAN__{{ upper $svc }}__DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $.Values.database.existingSecret }}, key: {{ $svc }}}
{{- end }}
{{- end -}}
