#!/usr/bin/env bash
# Offline checks of the deployment files (run by .ci/run):
#  - yamllint on Compose and Kubernetes YAML;
#  - every complete Kubernetes manifest validated strictly against the
#    Kubernetes 1.37 OpenAPI schemas that `kubernetes-validate` ships;
#  - every file a kustomization lists exists.
set -euo pipefail
cd "$(dirname "$0")"

yamllint -c .yamllint.yaml compose.yaml kubernetes/

# Complete objects only: overlay patches are partial by design.
# (It warns, without failing, on kinds it has no schema for: Kustomization.)
kubernetes-validate --strict --quiet kubernetes/base/*.yaml

python3 - <<'PY'
import pathlib, sys, yaml
missing = []
for kustomization in pathlib.Path("kubernetes").rglob("kustomization.yaml"):
    spec = yaml.safe_load(kustomization.read_text())
    for entry in spec.get("resources", []) + [p["path"] for p in spec.get("patches", []) if "path" in p]:
        target = (kustomization.parent / entry).resolve()
        if not target.exists():
            missing.append(f"{kustomization}: {entry}")
if missing:
    sys.exit("kustomization entries that do not exist:\n" + "\n".join(missing))
print("kustomizations: every listed file exists")
PY
echo "deploy files are valid"
