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

{{/* Where a private CA (privateCA) is mounted; wallaroo.tls.caFile points into it. */}}
{{- define "wallaroo-gateway.caDir" -}}/etc/wallaroo-gateway-ca{{- end -}}

{{/*
The gateway config as rendered into the ConfigMap: the mode's defaults (modeDefaults.<mode>) under
values.config, then Redis wiring when enabled and the private CA's path when one is mounted.
*/}}
{{- define "wallaroo-gateway.config" -}}
{{- $defaults := deepCopy (index .Values.modeDefaults .Values.mode | default dict) -}}
{{- $config := mergeOverwrite $defaults (deepCopy .Values.config) -}}
{{- if .Values.redis.enabled -}}
{{- $rateLimit := default dict $config.rateLimit -}}
{{- $_ := set $rateLimit "store" "redis" -}}
{{- $_ := set $rateLimit "redisUrlFile" "/var/run/secrets/wallaroo/redisUrl" -}}
{{- $_ := unset $rateLimit "redisUrl" -}}
{{- $_ := set $config "rateLimit" $rateLimit -}}
{{- end -}}
{{- if or .Values.privateCA.configMap .Values.privateCA.secret -}}
{{- if and .Values.privateCA.configMap .Values.privateCA.secret -}}
{{- fail "privateCA: set configMap or secret, not both" -}}
{{- end -}}
{{- $tls := default dict $config.wallaroo.tls -}}
{{- if $tls.caFile -}}
{{- fail "set privateCA or config.wallaroo.tls.caFile, not both (privateCA sets caFile to the mounted file)" -}}
{{- end -}}
{{- $_ := set $tls "caFile" (printf "%s/%s" (include "wallaroo-gateway.caDir" .) .Values.privateCA.key) -}}
{{- $_ := set $config.wallaroo "tls" $tls -}}
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
The gateway as a native sidecar (an init container with restartPolicy: Always, Kubernetes 1.29+): it starts,
and its startup probe passes, before the app's containers start, and it stops after them. Traffic stays on
127.0.0.1 (only this pod's containers reach it); the probes target the metrics port, which listens on the pod
IP (metrics.host, default 0.0.0.0), because the kubelet probes the pod IP and never reaches 127.0.0.1.
Classic form: drop restartPolicy and list it under containers (no start/stop ordering then).
*/}}
{{- define "wallaroo-gateway.sidecarContainer" -}}
{{- $config := include "wallaroo-gateway.config" . | fromYaml -}}
{{- $adminPort := (default dict $config.metrics).port -}}
{{- if not $adminPort -}}
{{- fail "sidecar mode needs config.metrics.port: the kubelet probes /healthz and /readyz there (the traffic port is on 127.0.0.1)" -}}
{{- end -}}
- name: wallaroo-gateway
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  restartPolicy: Always
  args: ["serve", "--config", "/etc/wallaroo-gateway/config.yaml"]
  ports:
    - { name: gw-http, containerPort: {{ $config.server.port | default 8080 }} }
    - { name: gw-admin, containerPort: {{ $adminPort }} }
  startupProbe:
    httpGet: { path: /healthz, port: gw-admin }
    periodSeconds: 1
    failureThreshold: 30
  readinessProbe:
    httpGet: { path: /readyz, port: gw-admin }
    periodSeconds: 5
  livenessProbe:
    httpGet: { path: /healthz, port: gw-admin }
    periodSeconds: 10
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    {{- include "wallaroo-gateway.resources" (dict "resources" .Values.sidecar.resources "headroomMiB" (int .Values.sidecar.memoryHeadroomMiB) "root" .) | nindent 4 }}
  volumeMounts:
    - { name: wallaroo-gateway-config, mountPath: /etc/wallaroo-gateway, readOnly: true }
    - { name: wallaroo-gateway-secret, mountPath: /var/run/secrets/wallaroo, readOnly: true }
    {{- if or .Values.privateCA.configMap .Values.privateCA.secret }}
    - { name: wallaroo-gateway-ca, mountPath: {{ include "wallaroo-gateway.caDir" . }}, readOnly: true }
    {{- end }}
    - { name: wallaroo-gateway-tmp, mountPath: /tmp }
{{- end -}}

{{/* The private CA volume (privateCA), for the Deployment and the sidecar snippet. */}}
{{- define "wallaroo-gateway.caVolume" -}}
{{- if .Values.privateCA.configMap }}
configMap:
  name: {{ .Values.privateCA.configMap }}
  items: [{ key: {{ .Values.privateCA.key | quote }}, path: {{ .Values.privateCA.key | quote }} }]
{{- else }}
secret:
  secretName: {{ .Values.privateCA.secret }}
  items: [{ key: {{ .Values.privateCA.key | quote }}, path: {{ .Values.privateCA.key | quote }} }]
{{- end }}
{{- end -}}

{{- define "wallaroo-gateway.sidecarVolumes" -}}
- name: wallaroo-gateway-config
  configMap: { name: {{ include "wallaroo-gateway.fullname" . }} }
- name: wallaroo-gateway-secret
  secret: { secretName: {{ include "wallaroo-gateway.secretName" . }} }
{{- if or .Values.privateCA.configMap .Values.privateCA.secret }}
- name: wallaroo-gateway-ca
  {{- include "wallaroo-gateway.caVolume" . | trim | nindent 2 }}
{{- end }}
- name: wallaroo-gateway-tmp
  emptyDir: {}
{{- end -}}

{{/*
server.bufferBudget in MiB (rounded up), as the gateway will read it: values.config, else the mode's default,
else the gateway's own default (256MiB). Units as in the config: B, KB, MB, GB, KiB, MiB, GiB; a number is bytes.
*/}}
{{- define "wallaroo-gateway.bufferBudgetMiB" -}}
{{- $defaults := (index .Values.modeDefaults .Values.mode | default dict) -}}
{{- $budget := (default dict .Values.config.server).bufferBudget | default (default dict $defaults.server).bufferBudget | default "256MiB" -}}
{{- $text := lower (toString $budget | trim) -}}
{{- $number := regexFind "^[0-9]+(\\.[0-9]+)?" $text -}}
{{- if not $number -}}{{- fail (printf "config.server.bufferBudget %v is not a size" $budget) -}}{{- end -}}
{{- $unit := trim (trimPrefix $number $text) -}}
{{- $factors := dict "" 1.0 "b" 1.0 "kb" 1000.0 "mb" 1000000.0 "gb" 1000000000.0 "kib" 1024.0 "mib" 1048576.0 "gib" 1073741824.0 -}}
{{- if not (hasKey $factors $unit) -}}{{- fail (printf "config.server.bufferBudget %v has an unknown unit" $budget) -}}{{- end -}}
{{- ceil (divf (mulf (float64 $number) (get $factors $unit)) 1048576.0) | int64 -}}
{{- end -}}

{{/*
Container resources with the memory limit, when left empty, derived from the buffer budget: the bytes of bodies
and answers the gateway may hold (server.bufferBudget) plus the headroom of a Node process at rest (heap, code,
caches, sockets). Usage: (dict "resources" .Values.resources "headroomMiB" N "root" .)
*/}}
{{- define "wallaroo-gateway.resources" -}}
{{- $resources := deepCopy (.resources | default dict) -}}
{{- $limits := deepCopy ($resources.limits | default dict) -}}
{{- if not $limits.memory -}}
{{- $_ := set $limits "memory" (printf "%dMi" (add (include "wallaroo-gateway.bufferBudgetMiB" .root | int64) .headroomMiB)) -}}
{{- end -}}
{{- $_ := set $resources "limits" $limits -}}
{{- toYaml $resources -}}
{{- end -}}
