#!/usr/bin/env bash
# Builds Kennel and starts it on its embedded defaults: SQLite in $KENNEL_DATA_DIR (~/.kennel), the bubblewrap
# sandbox, and an embedded worker, listening on $KENNEL_LISTEN (127.0.0.1:4000). Installs bubblewrap and libseccomp (the
# sandbox's seccomp filter) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for package in bubblewrap libseccomp2; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]}..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
dotnet publish src/Kennel -c Release -nologo -v quiet -o artifacts/kennel
exec artifacts/kennel/kennel serve "$@"
