{{- define "consentry.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "consentry.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "consentry.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "consentry.validate" -}}
{{- if not (has .Values.mode (list "sqlite" "postgres")) -}}
{{- fail (printf "mode must be sqlite or postgres, got %q" .Values.mode) -}}
{{- end -}}
{{- if and (eq .Values.mode "postgres") (lt (int .Values.replicas) 1) -}}
{{- fail "replicas must be at least 1" -}}
{{- end -}}
{{- end -}}

{{/* The pod template shared by the StatefulSet (sqlite) and the Deployment (postgres). */}}
{{- define "consentry.podTemplate" -}}
metadata:
  labels:
    {{- include "consentry.selectorLabels" . | nindent 4 }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    fsGroup: 10001
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: consentry
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["--config", "/etc/consentry/config.yaml"]
      env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- if eq .Values.mode "postgres" }}
        - name: CONSENTRY_LEDGER_DSN
          valueFrom:
            secretKeyRef:
              name: {{ .Values.postgres.existingSecret }}
              key: {{ .Values.postgres.dsnKey }}
        {{- end }}
      envFrom:
        - secretRef:
            name: {{ .Values.secrets.existingSecret }}
      ports:
        {{- range $name, $v := .Values.vendors }}
        {{- if $v.enabled }}
        - name: {{ $name }}
          containerPort: {{ $v.port }}
          protocol: TCP
        {{- end }}
        {{- end }}
        - name: audit-http
          containerPort: {{ .Values.auditApi.httpPort }}
          protocol: TCP
        - name: audit-grpc
          containerPort: {{ .Values.auditApi.grpcPort }}
          protocol: TCP
        - name: health
          containerPort: {{ .Values.healthPort }}
          protocol: TCP
        - name: metrics
          containerPort: {{ .Values.metricsPort }}
          protocol: TCP
      # healthcheckv2 /status: 200 healthy; 500 a component failing for
      # longer than recovery_duration; 503 starting or stopping.
      startupProbe:
        httpGet: {path: /status, port: health}
        periodSeconds: 2
        failureThreshold: 60
      readinessProbe:
        httpGet: {path: /status, port: health}
        periodSeconds: 5
        failureThreshold: 2
      livenessProbe:
        httpGet: {path: /status, port: health}
        periodSeconds: 10
        failureThreshold: 6
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: [ALL]
      volumeMounts:
        - name: config
          mountPath: /etc/consentry
          readOnly: true
        - name: data
          mountPath: /var/lib/consentry
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: config
      configMap:
        name: {{ include "consentry.fullname" . }}
    - name: tmp
      emptyDir: {}
    {{- if eq .Values.mode "postgres" }}
    - name: data
      emptyDir: {}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
