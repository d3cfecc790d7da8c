#!/usr/bin/env bash
# Runs every benchmark (mono beside its baseline, medians, ratio). Needs root for the sandbox box.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/cli/mono.mjs ] || npm run build
npx tsx bench/startup.ts
npx tsx bench/setup-noop.ts
npx tsx bench/status.ts
npx tsx bench/upload.ts
npx tsx bench/handover.ts
npx tsx bench/backup.ts
npx tsx bench/restore.ts
