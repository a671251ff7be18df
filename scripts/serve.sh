#!/usr/bin/env bash
# Builds Kennel and starts it on its embedded defaults: SQLite in $KENNEL_DATA_DIR (~/.kennel), the bubblewrap
# sandbox, and an embedded worker, listening on $KENNEL_LISTEN (127.0.0.1:4000). Installs bubblewrap if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v bwrap >/dev/null; then
    echo "Installing bubblewrap..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null
fi
dotnet publish src/Kennel -c Release -nologo -v quiet -o artifacts/kennel
exec artifacts/kennel/kennel serve "$@"
