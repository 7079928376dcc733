{{/* Chart name, shortened to the 63 characters of a DNS label. */}}
{{- define "burnwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: <release>-<chart>, or the release name when it already contains the chart name. */}}
{{- define "burnwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "burnwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "burnwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "burnwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "burnwatch.labels" -}}
helm.sh/chart: {{ include "burnwatch.chart" . }}
{{ include "burnwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "burnwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "burnwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "burnwatch.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "burnwatch.configMapName" -}}
{{- default (include "burnwatch.fullname" .) .Values.existingConfigMap }}
{{- end }}

{{- define "burnwatch.claimName" -}}
{{- default (printf "%s-data" (include "burnwatch.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/*
Combinations the chart refuses, with the reason. Included by every workload template.
*/}}
{{- define "burnwatch.checks" -}}
{{- if .Values.sharding.enabled }}
{{- if lt (int .Values.sharding.shards) 1 }}
{{- fail "sharding.shards must be at least 1" }}
{{- end }}
{{- if .Values.persistence.existingClaim }}
{{- fail "persistence.existingClaim cannot be shared by shards: with sharding.enabled every shard gets its own claim from volumeClaimTemplates" }}
{{- end }}
{{- else if and .Values.persistence.enabled (gt (int .Values.replicaCount) 1) }}
{{- fail "persistence.enabled with replicaCount > 1 would make replicas share one state file: use one replica, or one release per replica of an HA pair" }}
{{- end }}
{{- end }}

{{/*
The pod template shared by the Deployment and the StatefulSet.
*/}}
{{- define "burnwatch.podTemplate" -}}
metadata:
  labels:
    {{- include "burnwatch.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if or .Values.podAnnotations (and .Values.rollOnConfigChange (not .Values.existingConfigMap)) }}
  annotations:
    {{- if and .Values.rollOnConfigChange (not .Values.existingConfigMap) }}
    checksum/config: {{ .Values.config | sha256sum }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
spec:
  serviceAccountName: {{ include "burnwatch.serviceAccountName" . }}
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: burnwatch
      image: {{ include "burnwatch.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - run
        - --config
        - /etc/burnwatch/burnwatch.toml
        - --data-dir
        - /var/lib/burnwatch
        {{- if .Values.sharding.enabled }}
        - --shard-count
        - {{ .Values.sharding.shards | quote }}
        {{- end }}
        {{- range .Values.extraArgs }}
        - {{ . | quote }}
        {{- end }}
      env:
        - name: BURNWATCH_LOG_FORMAT
          value: {{ .Values.logFormat | quote }}
        {{- if .Values.sharding.enabled }}
        # The shard index is the trailing ordinal of the pod name (burnwatch-2 -> 2), read from
        # HOSTNAME; set it from the pod name so it never depends on the runtime's default.
        - name: HOSTNAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.existingSecret }}
      envFrom:
        - secretRef:
            name: {{ . }}
      {{- end }}
      ports:
        - name: http-metrics
          containerPort: 9464
          protocol: TCP
      # /healthz answers once the server listens; /readyz once every SLO has been backfilled.
      startupProbe:
        httpGet:
          path: /healthz
          port: http-metrics
        periodSeconds: 2
        failureThreshold: 30
      livenessProbe:
        httpGet:
          path: /healthz
          port: http-metrics
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http-metrics
        periodSeconds: 5
        timeoutSeconds: 3
        failureThreshold: 2
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        # The whole directory, not a subPath: subPath mounts never see ConfigMap updates.
        - name: config
          mountPath: /etc/burnwatch
          readOnly: true
        - name: data
          mountPath: /var/lib/burnwatch
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "burnwatch.configMapName" . }}
    {{- if not .Values.sharding.enabled }}
    - name: data
      {{- if .Values.persistence.enabled }}
      persistentVolumeClaim:
        claimName: {{ include "burnwatch.claimName" . }}
      {{- else }}
      emptyDir:
        sizeLimit: {{ .Values.dataSizeLimit }}
      {{- end }}
    {{- else if not .Values.persistence.enabled }}
    - name: data
      emptyDir:
        sizeLimit: {{ .Values.dataSizeLimit }}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
