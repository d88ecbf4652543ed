#!/usr/bin/env bash
# Install what is needed and build both editions of the HTML book into _build/html.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/install.sh
dlbook-tools book "$@"
