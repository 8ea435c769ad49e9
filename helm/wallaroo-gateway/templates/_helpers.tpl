{{/* Names and labels, as the oauth2-proxy chart does. */}}
{{- define "wallaroo-gateway.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "wallaroo-gateway.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wallaroo-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "wallaroo-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "wallaroo-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wallaroo-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wallaroo-gateway.secretName" -}}
{{- default (include "wallaroo-gateway.fullname" .) .Values.secret.existingSecret -}}
{{- end -}}

{{- define "wallaroo-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "wallaroo-gateway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The gateway config as rendered into the ConfigMap: values.config, plus Redis wiring when enabled. */}}
{{- define "wallaroo-gateway.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- if .Values.redis.enabled -}}
{{- $rateLimit := default dict $config.rateLimit -}}
{{- $_ := set $rateLimit "store" "redis" -}}
{{- $_ := set $rateLimit "redisUrlFile" "/var/run/secrets/wallaroo/redisUrl" -}}
{{- $_ := unset $rateLimit "redisUrl" -}}
{{- $_ := set $config "rateLimit" $rateLimit -}}
{{- end -}}
{{- if .Values.tls.secretName -}}
{{- $server := default dict $config.server -}}
{{- $_ := set $server "tls" (dict "certFile" "/var/run/secrets/wallaroo-gateway/tls/tls.crt" "keyFile" "/var/run/secrets/wallaroo-gateway/tls/tls.key") -}}
{{- $_ := set $config "server" $server -}}
{{- $callers := default dict $config.callers -}}
{{- if eq (default "none" $callers.authentication) "mtls" -}}
{{- $mtls := default dict $callers.mtls -}}
{{- $_ := set $mtls "caFile" (default "/var/run/secrets/wallaroo-gateway/tls/ca.crt" $mtls.caFile) -}}
{{- $_ := set $callers "mtls" $mtls -}}
{{- end -}}
{{- end -}}
{{- if .Values.callerIdentity.apiServerKeys -}}
{{- $callers := default dict $config.callers -}}
{{- $kubernetes := default dict $callers.kubernetes -}}
{{- if not (or $kubernetes.jwksUrl $kubernetes.jwksFile) -}}
{{- $_ := set $kubernetes "jwksUrl" "https://kubernetes.default.svc/openid/v1/jwks" -}}
{{- end -}}
{{- $_ := set $kubernetes "caFile" (default "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" $kubernetes.caFile) -}}
{{- $_ := set $kubernetes "bearerTokenFile" (default "/var/run/secrets/kubernetes.io/serviceaccount/token" $kubernetes.bearerTokenFile) -}}
{{- $_ := set $callers "kubernetes" $kubernetes -}}
{{- $_ := set $config "callers" $callers -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* A probe from values, over HTTPS when the gateway serves TLS. */}}
{{- define "wallaroo-gateway.probe" -}}
{{- $probe := deepCopy .probe -}}
{{- if and .root.Values.tls.secretName $probe.httpGet -}}
{{- $_ := set $probe.httpGet "scheme" "HTTPS" -}}
{{- end -}}
{{- toYaml $probe -}}
{{- end -}}

{{/*
A ready-to-paste gateway sidecar container, listening on 127.0.0.1 so only its own pod can call it.
Use it in your pod template: {{ include "wallaroo-gateway.sidecarContainer" . | nindent 8 }}
together with the "wallaroo-gateway.sidecarVolumes" volumes.
*/}}
{{- define "wallaroo-gateway.sidecarContainer" -}}
- name: wallaroo-gateway
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  args: ["serve", "--config", "/etc/wallaroo-gateway/config.yaml"]
  env:
    - { name: PORT, value: "{{ .Values.config.server.port }}" }
  ports:
    - { name: gateway, containerPort: {{ .Values.config.server.port }} }
  readinessProbe:
    httpGet: { path: /readyz, port: {{ .Values.config.server.port }}, host: 127.0.0.1 }
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    requests: { cpu: 100m, memory: 128Mi }
    limits: { memory: 256Mi }
  volumeMounts:
    - { name: wallaroo-gateway-config, mountPath: /etc/wallaroo-gateway, readOnly: true }
    - { name: wallaroo-gateway-secret, mountPath: /var/run/secrets/wallaroo, readOnly: true }
    - { name: wallaroo-gateway-tmp, mountPath: /tmp }
{{- end -}}

{{- define "wallaroo-gateway.sidecarVolumes" -}}
- name: wallaroo-gateway-config
  configMap: { name: {{ include "wallaroo-gateway.fullname" . }} }
- name: wallaroo-gateway-secret
  secret: { secretName: {{ include "wallaroo-gateway.secretName" . }} }
- name: wallaroo-gateway-tmp
  emptyDir: {}
{{- end -}}
