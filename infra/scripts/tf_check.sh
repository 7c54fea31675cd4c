#!/usr/bin/env bash
# `make tf-check`: terraform fmt, validate per environment, `terraform test` suites, then tflint
# and checkov.
# A tool that is not installed is skipped with a message; a tool that runs and fails fails.
set -euo pipefail
cd "$(dirname "$0")/../terraform"

TERRAFORM="${TERRAFORM:-terraform}"
TFLINT="${TFLINT:-tflint}"
CHECKOV="${CHECKOV:-checkov}"
# Offline machines can point at a filesystem provider mirror (registry.terraform.io/hashicorp/aws/...).
PLUGIN_DIR="${TF_PLUGIN_DIR:-}"
if [ -z "$PLUGIN_DIR" ] && [ -d /opt/tf-plugins ]; then
  PLUGIN_DIR=/opt/tf-plugins
fi

if command -v "$TERRAFORM" >/dev/null 2>&1; then
  echo "tf-check: terraform fmt -check -recursive"
  "$TERRAFORM" fmt -check -recursive -diff
  # Validate a copy: init writes .terraform/ and a lock file we do not want in the tree.
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r . "$work/terraform"
  for env in envs/*/; do
    echo "tf-check: terraform validate $env"
    init_args=(init -backend=false -input=false -no-color)
    if [ -n "$PLUGIN_DIR" ]; then init_args+=("-plugin-dir=$PLUGIN_DIR"); fi
    if ! (cd "$work/terraform/$env" && "$TERRAFORM" "${init_args[@]}" >"$work/init.log" 2>&1); then
      cat "$work/init.log" >&2
      echo "tf-check: terraform init failed for $env (providers unreachable? set TF_PLUGIN_DIR to a provider mirror)" >&2
      exit 1
    fi
    (cd "$work/terraform/$env" && "$TERRAFORM" validate -no-color)
  done
  # `terraform test` (mocked AWS provider, no account needed) wherever a tests/ folder exists.
  for suite in $(find . -path ./.terraform -prune -o -name '*.tftest.hcl' -print | xargs -r -n1 dirname | xargs -r -n1 dirname | sort -u); do
    echo "tf-check: terraform test ${suite#./}"
    (cd "$work/terraform/$suite" && "$TERRAFORM" "${init_args[@]}" >"$work/init.log" 2>&1 || { cat "$work/init.log" >&2; exit 1; })
    (cd "$work/terraform/$suite" && "$TERRAFORM" test -no-color)
  done
else
  echo "tf-check: SKIPPED terraform fmt and validate: '$TERRAFORM' not found (install Terraform >= 1.5)"
fi

if command -v "$TFLINT" >/dev/null 2>&1; then
  echo "tf-check: tflint --recursive"
  "$TFLINT" --recursive
else
  echo "tf-check: SKIPPED tflint: '$TFLINT' not found"
fi

if command -v "$CHECKOV" >/dev/null 2>&1; then
  echo "tf-check: checkov (skips are inline, each with its reason)"
  "$CHECKOV" --directory . --framework terraform --quiet --compact --skip-download
else
  echo "tf-check: SKIPPED checkov: '$CHECKOV' not found (pip install checkov in a separate venv, or set CHECKOV=path)"
fi
