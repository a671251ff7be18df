#!/usr/bin/env bash
# Runs Kennel's whole test suite on this machine: installs what the tests need (bubblewrap, PostgreSQL; Node 22 and
# the MCP conformance suite from npm), starts a throwaway PostgreSQL on a free loopback port, runs every test project
# against SQLite and PostgreSQL, and prints a one-line summary. Needs root (apt-get, and the sandbox's unprivileged uid).
set -euo pipefail
cd "$(dirname "$0")/.."

# libseccomp2 compiles the sandbox's seccomp filter; gcc and git are ordinary workloads the sandbox tests run under it.
# openssh-server is the real sshd the server tests log in to (each test starts its own, in a network namespace).
packages=(bubblewrap libseccomp2 postgresql util-linux iproute2 python3 tzdata gcc libc6-dev git openssh-server openssl debootstrap curl)
# docker-registry is the real OCI registry the image pull tests push to and pull from (each test class starts its own).
packages+=(docker-registry)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Node 22, the MCP conformance suite and mcp-remote (a real OAuth client), from npm into .tools/node (git-ignored);
# skipped when already there.
tools="$PWD/.tools/node"
conformance_version=0.1.16
mcp_remote_version=0.15.1
export KENNEL_TEST_NODE22="$tools/node_modules/.bin/node"
export KENNEL_TEST_CONFORMANCE="$tools/node_modules/@modelcontextprotocol/conformance/dist/index.js"
export KENNEL_TEST_MCP_REMOTE="$tools/node_modules/mcp-remote/dist/client.js"
installed_conformance=$(sed -nE 's/^  "version": "([^"]+)".*/\1/p' "$tools/node_modules/@modelcontextprotocol/conformance/package.json" 2>/dev/null || true)
installed_mcp_remote=$(sed -nE 's/^  "version": "([^"]+)".*/\1/p' "$tools/node_modules/mcp-remote/package.json" 2>/dev/null || true)
if [[ "$("$KENNEL_TEST_NODE22" --version 2>/dev/null)" != v22.* || "$installed_conformance" != "$conformance_version" || "$installed_mcp_remote" != "$mcp_remote_version" ]]; then
    echo "Installing: node@22 @modelcontextprotocol/conformance@$conformance_version mcp-remote@$mcp_remote_version (into .tools/node)"
    mkdir -p "$tools"
    npm install --prefix "$tools" --no-audit --no-fund --loglevel=error node@22 "@modelcontextprotocol/conformance@$conformance_version" "mcp-remote@$mcp_remote_version" >/dev/null
fi

state=$(mktemp -d /tmp/kennel-test.XXXXXX)
chmod 0755 "$state" # the postgres user must reach its cluster directory inside
cleanup() {
    scripts/start-postgres.sh --stop "$state/postgres"
    rm -rf "$state"
}
trap cleanup EXIT
# An assignment, not eval "$(...)": a failure to start PostgreSQL must stop the run here, not surface as failed tests.
postgres_env=$(scripts/start-postgres.sh "$state/postgres")
eval "$postgres_env"
export KENNEL_TEST_POSTGRES

dotnet build Kennel.slnx -c Release -nologo -v quiet
status=0
dotnet test Kennel.slnx -c Release --no-build -nologo --logger "trx" --results-directory "$state/results" "$@" || status=$?

passed=0 failed=0 skipped=0
for trx in "$state"/results/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx")
    passed=$((passed + $(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")))
    failed=$((failed + $(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")))
    skipped=$((skipped + $(sed -E 's/.* notExecuted="([0-9]+)".*/\1/' <<<"$counters")))
done
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
