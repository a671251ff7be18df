#!/usr/bin/env bash
# Fills a running `kennel serve` (URL, data dir) with one of each thing a user makes; see README.md.
set -euo pipefail
url=$1 key=$(cat "$2/admin-api-key")
api() { curl -sS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"; echo; }
id() { python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
s1=$(api -d '{"command": ["echo", "hello from sqlite 3.35"]}' "$url/v1/sessions" | id)
s2=$(api -d '{"script": "echo out; echo err >&2; exit 3", "metadata": {"team": "infra"}}' "$url/v1/sessions" | id)
api -X PUT -d '{"value": "s3cr3t-value"}' "$url/v1/secrets/DEPLOY_TOKEN"
s3=$(api -d '{"script": "test \"$DEPLOY_TOKEN\" = s3cr3t-value && echo secret-ok", "secrets": ["DEPLOY_TOKEN"], "env": {"A": "b"}}' "$url/v1/sessions" | id)
s4=$(api -d '{"command": ["sleep", "60"]}' "$url/v1/sessions" | id)
sleep 2
api -X POST "$url/v1/sessions/$s4/cancel"
for s in "$s1" "$s2" "$s3"; do api "$url/v1/sessions/$s/wait?timeoutMs=30000" >/dev/null; done
api -d '{"name": "nightly", "workload": {"command": ["echo", "nightly"]}, "trigger": {"type": "schedule", "cron": "30 2 * * MON-FRI", "timezone": "Europe/Berlin", "catchUp": "skip"}}' "$url/v1/daemons"
api -d '{"name": "every-minute", "workload": {"command": ["true"]}, "trigger": {"type": "schedule", "cron": "* * * * *"}}' "$url/v1/daemons"
api -d '{"name": "ci", "scopes": ["mcp:read", "mcp:write"]}' "$url/v1/apikeys"
api -d '{"name": "team-b", "workspace": "team-b"}' "$url/v1/apikeys"
api -d '{"email": "ada@example.com", "password": "correct horse battery staple", "role": "admin"}' "$url/v1/users"
api -d '{"workspace": "team-b", "role": "member"}' "$url/v1/users/ada@example.com/memberships"
api -d '{"ttlSeconds": 3600}' "$url/v1/workers/tokens"
api -X POST "$url/v1/oauth/signing-keys/rotate"
curl -sS -H 'Content-Type: application/json' -d '{"client_name": "fixture client", "redirect_uris": ["http://127.0.0.1:33418/callback"], "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}' "$url/oauth/register"; echo
until api "$url/v1/daemons/every-minute" | grep -q '"recentSessions":\[{'; do sleep 1; done
api -X POST "$url/v1/daemons/every-minute/pause"
api -d '{"name": "pr-reviewer", "description": "reviews pull requests", "workload": {"script": "cat \"$KENNEL_TRIGGER_PAYLOAD\""}, "trigger": {"type": "webhook", "signature": "hmac-sha256", "secret": "whsec-fixture"}, "concurrency": "queue"}' "$url/v1/daemons"
api -d '{"payload": {"reason": "by hand"}}' "$url/v1/daemons/pr-reviewer/trigger"
body='{"action":"opened"}'
signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac whsec-fixture | awk '{print $2}')
curl -sS -H "X-Hub-Signature-256: sha256=$signature" -H 'X-GitHub-Delivery: 1' -H 'Content-Type: application/json' -d "$body" "$url/v1/webhooks/default/pr-reviewer"; echo
sleep 4
