#!/usr/bin/env bash
# Benchmarks sessions end to end against raw bwrap on this machine, in one run, and prints a Markdown report
# for docs/benchmarks.md. Options: --samples N (200) --concurrency N (16) --seconds N (10) --idle-seconds N (5)
# --database-url URL (PostgreSQL instead of SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }
dotnet build bench/Kennel.Bench -c Release -nologo -v quiet --artifacts-path artifacts/bench
exec dotnet artifacts/bench/bin/Kennel.Bench/release/Kennel.Bench.dll "$@"
