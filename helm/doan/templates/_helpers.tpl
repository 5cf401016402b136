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

{{/* Where the notifications service finds the provider keys mounted from Secrets. */}}
{{- define "doan.fcmKeyFile" -}}/var/run/secrets/doan/fcm/service-account.json{{- end -}}
{{- define "doan.apnsKeyFile" -}}/var/run/secrets/doan/apns/key.p8{{- end -}}

{{/* Environment of the notifications service: the push and email providers that are enabled.
     Key files are paths to mounted Secrets; the SMTP URL (it holds a password) comes from its
     Secret. A provider left out has no credentials, and no deliveries are queued for it. */}}
{{- define "doan.channelsEnv" -}}
{{- with .Values.channels.fcm }}
{{- if .enabled }}
- name: DOAN__CHANNELS__FCM__CREDENTIALS_FILE
  value: {{ include "doan.fcmKeyFile" $ | quote }}
- name: DOAN__CHANNELS__FCM__BASE_URL
  value: {{ .baseUrl | quote }}
- name: DOAN__CHANNELS__FCM__CONNECTIONS
  value: {{ .connections | quote }}
- name: DOAN__CHANNELS__FCM__MAX_IN_FLIGHT
  value: {{ .maxInFlight | quote }}
{{- end }}
{{- end }}
{{- with .Values.channels.apns }}
{{- if .enabled }}
- name: DOAN__CHANNELS__APNS__KEY_FILE
  value: {{ include "doan.apnsKeyFile" $ | quote }}
- name: DOAN__CHANNELS__APNS__KEY_ID
  value: {{ .keyId | quote }}
- name: DOAN__CHANNELS__APNS__TEAM_ID
  value: {{ .teamId | quote }}
- name: DOAN__CHANNELS__APNS__TOPIC
  value: {{ .topic | quote }}
- name: DOAN__CHANNELS__APNS__CONNECTIONS
  value: {{ .connections | quote }}
- name: DOAN__CHANNELS__APNS__MAX_IN_FLIGHT
  value: {{ .maxInFlight | quote }}
{{- end }}
{{- end }}
{{- with .Values.channels.smtp }}
{{- if .enabled }}
- name: DOAN__CHANNELS__SMTP__URL
  valueFrom:
    secretKeyRef: {name: {{ .existingSecret }}, key: url}
- name: DOAN__CHANNELS__SMTP__FROM
  value: {{ .from | quote }}
- name: DOAN__CHANNELS__SMTP__POOL_SIZE
  value: {{ .poolSize | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Read-only mounts of the provider keys (notifications container). Empty when no key file
     is needed. */}}
{{- define "doan.channelsVolumeMounts" -}}
{{- if .Values.channels.fcm.enabled }}
- name: fcm-key
  mountPath: {{ include "doan.fcmKeyFile" . | dir }}
  readOnly: true
{{- end }}
{{- if .Values.channels.apns.enabled }}
- name: apns-key
  mountPath: {{ include "doan.apnsKeyFile" . | dir }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* The Secrets behind doan.channelsVolumeMounts: only the key file, readable by the pod's
     group (fsGroup 65532) and nobody else. */}}
{{- define "doan.channelsVolumes" -}}
{{- if .Values.channels.fcm.enabled }}
- name: fcm-key
  secret:
    secretName: {{ .Values.channels.fcm.existingSecret }}
    items:
      - {key: service-account.json, path: {{ include "doan.fcmKeyFile" . | base }}}
    defaultMode: 0440
{{- end }}
{{- if .Values.channels.apns.enabled }}
- name: apns-key
  secret:
    secretName: {{ .Values.channels.apns.existingSecret }}
    items:
      - {key: key.p8, path: {{ include "doan.apnsKeyFile" . | base }}}
    defaultMode: 0440
{{- end }}
{{- end -}}
