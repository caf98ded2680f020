#!/usr/bin/env sh
# Refresh the two copies that kustomize needs inside deploy/kubernetes/ (it
# refuses files outside a kustomization's directory):
#   base/rules/default.yaml                    <- deploy/rules/default.yaml
#   components/monitoring/prometheusrule.yaml  <- deploy/prometheus/vigil-alerts.yaml
# test/deploy/kubernetes.test.ts and test/deploy/dashboards.test.ts fail while
# a copy differs from its original.
set -eu
cd "$(dirname "$0")"

cp ../rules/default.yaml base/rules/default.yaml

out=components/monitoring/prometheusrule.yaml
{
  cat <<'HEADER'
# The alerting rules of deploy/prometheus/vigil-alerts.yaml for the Prometheus
# Operator. Keep the two identical: change that file, then regenerate this one
# (docs/deploy.md, "Monitoring"); test/deploy/dashboards.test.ts fails when
# they differ.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: vigil
  namespace: vigil-system
  labels:
    app.kubernetes.io/name: vigil
spec:
HEADER
  # the rule file's groups, indented under spec
  sed -n '/^groups:/,$p' ../prometheus/vigil-alerts.yaml | sed 's/^/  /'
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "refreshed base/rules/default.yaml and $out"
