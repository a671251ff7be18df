#!/usr/bin/env bash
# Benchmarks sessions end to end against raw bwrap on this machine, in one run, and prints a Markdown report
# for docs/benchmarks.md. Options: --samples N (200) --concurrency N (16) --seconds N (10) --idle-seconds N (5)
# --database-url URL (PostgreSQL instead of SQLite). `--compare-with DIR` (repeatable) runs another build's kennel.dll from
# DIR (e.g. another checkout's artifacts/bench/bin/Kennel.Bench/release) beside this one's: latency alternating sample by
# sample in one run, idle RSS read at the same moment, then each build's throughput in turn.
#
# `scripts/bench.sh mcp [--seconds N (10)] [--sessions N (200)]` benchmarks the MCP server instead: tools/call get-session
# at 1, 16 and 64 clients and memory per open MCP session, Kennel against the official TypeScript SDK on Node 22
# (bench/ts-reference/server.mjs), both loaded by the same thin HTTP client in one run, with each server's CPU per call;
# at 1 client, interleaved with three floors: bare Kestrel and bare node:http (floor.mjs) replaying Kennel's answer, and
# Kennel.Mcp + the SDK serving it from a tool with no auth or database. `--loaded none` skips the 16/64-client cells,
# `--sessions 0` the memory figure; BENCH_KENNEL_ENV="NAME=value;…" sets environment variables on `kennel serve` only.
# `scripts/bench.sh mcp floor-cpu --builds NAME=DLL,NAME=DLL [--calls N (5000)] [--rounds N (5)]` compares builds of
# Kennel.Bench by the Kennel.Mcp + SDK floor's server CPU, allocated bytes and thread-pool work items per call, one client,
# the builds alternated round by round (bench/Kennel.Bench/FloorCpuBench.cs); allocations do not depend on the machine's load.
# `scripts/bench.sh mcp serve-cpu --builds NAME=DIR,NAME=DIR [--calls N (5000)] [--rounds N (7)] [--rate-limit N (0)]` does the same
# for the real endpoint: each DIR's kennel.dll serve (API key, rate limiter, SQLite), get-session one call at a time, with its
# voluntary context switches too (bench/Kennel.Bench/ServeCpuBench.cs; allocations read through a startup hook, StatsHook.cs).
#
# `scripts/bench.sh schedules [--schedules N (10000)] [--idle-seconds N (30)] [--clients N (8)] [--database-url URL]` benchmarks
# the scheduler: the control plane's idle CPU with no schedules and with N loaded, and the lateness (session createdAt minus
# scheduledFor) of N runs all due at one minute boundary. No worker runs, so only the scheduler is measured.
#
# `scripts/bench.sh oauth [--seconds N (10)] [--samples N (2000)] [--concurrency N (4)]` benchmarks the OAuth server:
# access tokens issued per second (refresh_token grant), tools/call get-session with a JWT beside an API key, and the
# token check alone in process (AccessTokens.ValidateAsync: p50, validations per second on 1 thread and on all cores).
#
# `scripts/bench.sh agents [--turns N (300)] [--exec-turns N (50)] [--concurrent N (200)] [--seconds N (20)] [--slow-ms N (500)]
# [--growth-turns N (10000)] [--conversations N (10000)] [--openclaw-turns N (100)] [--openclaw-sessions N (1000)] [--no-openclaw]`
# benchmarks agent turns against a local OpenAI-compatible provider (bench/Kennel.Bench/Agents): Kennel's own time per turn
# (wall time minus the provider's) without tools and with one exec, the prompt for "say hello", 200 conversations at once
# against a slow provider, RSS at idle and after 10,000 turns, and the conversation list at 10,000; with OpenClaw 2026.9.6
# (Node 24 and openclaw from npm into .tools/openclaw) on the same provider in the same run as the reference.
# `scripts/bench.sh openclaw [--turns N] [--sessions 100,1000,10000]` measures OpenClaw alone, at more session counts.
# `scripts/bench.sh agents-growth [--checkpoints 10000,20000,30000] [--settle-seconds N (5)]` reads kennel serve's RSS as
# turns go on; with BENCH_GCDUMP=<path of dotnet-gcdump> a full GC (and a heap dump into BENCH_GCDUMP_DIR) comes first.
#
# `scripts/bench.sh sandbox [--samples N (200)]` benchmarks the sandbox alone, without the control plane: start to exit of
# `echo hello` for raw bwrap, the runtime with its standby sandboxes, and the runtime starting each sandbox on demand,
# in blocks of `--block N` (25) in a new order each round; `--compare-with DIR` (repeatable) adds another build's
# runtime (DIR holds its Kennel.Sandbox.dll), loaded into the same process, to the same alternation.
#
# `scripts/bench.sh agents-usage [--calls N (100000)] [--samples N (200)] [--database-url URL]` benchmarks the usage ledger's
# reads: usage_cost (by day, model, agent) and sessions_usage for a month of N model calls, over the agent endpoint and in process,
# and usage_cost's store read (daily roll-ups + today's calls) alternating with the sum over model_calls alone.
#
# `scripts/bench.sh cron [--jobs N (10000)] [--due N (1000)] [--idle-seconds N (30)] [--clients N (8)] [--database-url URL]`
# benchmarks agent cron jobs (bench/Kennel.Bench/Cron): the control plane's idle CPU with no jobs and with N enabled, and,
# for the D of them all due at one minute boundary (agent turns against a local provider that answers at once), how late
# each run fired and when its answer was recorded, p50 and p99.
#
# `scripts/bench.sh egress [--samples N (200)] [--block N (25)] [--stress N (1000)]` benchmarks sandbox network (root): start to
# exit of echo hello with network none (standby, and on demand) and allowlist (namespace + veth), side by side with ratios,
# and each one's teardown; then N allow-list sessions (a third killed, a third refused by the proxy) and what is left after.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bwrap >/dev/null || { apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; }
if [ "${1:-}" = mcp ]; then
    # Node 22 and the TypeScript SDK, pinned, from npm into .tools/node (git-ignored); skipped when already there.
    tools="$PWD/.tools/node"
    sdk_version=1.32.2 zod_version=4.6.7
    installed=$(sed -nE 's/^ *"version": "([^"]+)".*/\1/p' "$tools/node_modules/@modelcontextprotocol/sdk/package.json" 2>/dev/null | head -1 || true)
    if [ "$installed" != "$sdk_version" ] || [ ! -x "$tools/node_modules/.bin/node" ] || [ ! -d "$tools/node_modules/zod" ]; then
        echo "Installing: node@22 @modelcontextprotocol/sdk@$sdk_version zod@$zod_version (into .tools/node)" >&2
        npm install --prefix "$tools" --no-audit --no-fund --loglevel=error node@22 \
            "@modelcontextprotocol/sdk@$sdk_version" "zod@$zod_version" >/dev/null
    fi
    # Copied beside node_modules so its imports resolve there.
    cp bench/ts-reference/server.mjs "$tools/bench-ts-reference.mjs"
    # The node:http floor imports nothing, so it runs from where it is.
    export BENCH_NODE="$tools/node_modules/.bin/node" BENCH_TS_SERVER="$tools/bench-ts-reference.mjs" \
        BENCH_NODE_FLOOR="$PWD/bench/ts-reference/floor.mjs"
fi
if [ "${1:-}" = openclaw ] || { [ "${1:-}" = agents ] && [[ " $* " != *" --no-openclaw "* ]]; }; then
    # OpenClaw, the system behind seed 004, as the agent benchmark's reference: Node 24 (which it requires) and
    # openclaw, pinned, from npm into .tools/openclaw (git-ignored); skipped when already there.
    tools="$PWD/.tools/openclaw"
    openclaw_version=2026.9.6
    installed=$(sed -nE 's/^ *"version": "([^"]+)".*/\1/p' "$tools/node_modules/openclaw/package.json" 2>/dev/null | head -1 || true)
    if [ "$installed" != "$openclaw_version" ] || [ ! -x "$tools/node_modules/.bin/node" ]; then
        echo "Installing: node@24 openclaw@$openclaw_version (into .tools/openclaw)" >&2
        # Node 24 first: openclaw's install scripts refuse an older node on PATH.
        npm install --prefix "$tools" --no-audit --no-fund --loglevel=error node@24 >/dev/null
        PATH="$tools/node_modules/.bin:$PATH" npm install --prefix "$tools" --no-audit --no-fund --loglevel=error \
            node@24 "openclaw@$openclaw_version" >/dev/null
    fi
    # Copied beside node_modules so its import of the gateway client resolves there.
    cp bench/openclaw-reference/driver.mjs "$tools/bench-openclaw-driver.mjs"
    export BENCH_OPENCLAW_NODE="$tools/node_modules/.bin/node" BENCH_OPENCLAW="$tools/node_modules/openclaw/openclaw.mjs" \
        BENCH_OPENCLAW_DRIVER="$tools/bench-openclaw-driver.mjs" BENCH_OPENCLAW_NODE_VERSION="$("$tools/node_modules/.bin/node" --version)"
fi
dotnet build bench/Kennel.Bench -c Release -nologo -v quiet --artifacts-path artifacts/bench
exec dotnet artifacts/bench/bin/Kennel.Bench/release/Kennel.Bench.dll "$@"
