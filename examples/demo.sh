#!/usr/bin/env bash
# The README's demo: boot a local Debian 12 box (systemd-nspawn), provision it with `mono setup` (twice: the second run
# changes nothing), deploy the multi-tenant example app (examples/tenants), then, under client load and with a long job
# running for tenant "acme", deploy v2: no request fails, other tenants reach v2 at once, acme stays on v1 until its job
# is done, then moves, and v1 exits by itself. Then a rollback, the releases and the audit log, an encrypted backup of the
# app's database, copied to a second (offsite) box and verified there, a restore drill of it, the jobs mono cron runs on the box, and mono status.
# KEEP=1 leaves the boxes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mono() { node "$root/dist/cli/mono.mjs" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

[ -f dist/cli/mono.mjs ] || npm run build
name=${NAME:-demo}
work=$(mktemp -d)
cleanup() {
  if [ "${KEEP:-0}" != 1 ]; then
    mono sandbox down --name "$name" >/dev/null 2>&1 || true
    mono sandbox down --name "$name-offsite" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

say "booting sandbox box '$name' (the first run builds a cached Debian root, about 2 minutes)"
mono sandbox up --name "$name" > "$work/box.yml"
say "booting offsite box '$name-offsite' (sshd only: it keeps the backups)"
mono sandbox up --name "$name-offsite" --offsite > "$work/offsite.yml"
# Your recovery key for the backups, made here on "your machine": only its public half goes into mono.yml.
age-keygen -o "$work/recovery.key" 2>/dev/null

cp examples/tenants/Procfile examples/tenants/server.mjs "$work/"
cp dist/runtime/index.mjs "$work/runtime.mjs"   # an app from npm would import 'mono/runtime'
{
  grep -v '^#' examples/tenants/mono.example.yml
  cat "$work/box.yml"
  cat <<EOF
databases:
  - name: tenants
backups:
  encrypt:
    recipients: [$(age-keygen -y "$work/recovery.key")]
  offsite:
    host: $(sed -n 's/^host: //p' "$work/offsite.yml")
    path: /srv/backups
    known_hosts: $(sed -n 's/.*known_hosts: \([^ }]*\) }.*/\1/p' "$work/offsite.yml")
    identity: $(sed -n 's/.*identity: \([^,]*\),.*/\1/p' "$work/offsite.yml")
EOF
} > "$work/mono.yml"
printf 'mono.yml\nbox.yml\noffsite.yml\nrecovery.key\n' > "$work/.monoignore"
cd "$work"
port=$(sed -n 's/.*listen: "127.0.0.1:\([0-9]*\)".*/\1/p' box.yml)
on_box() { mono sandbox ssh --name "$name" -- "$@"; }
ask() { on_box "curl -s -H 'X-Tenant: $1' http://127.0.0.1:$port/"; }

say "mono.yml"
cat mono.yml
say "mono setup --dry-run: the plan, nothing changes"
mono setup --dry-run
say "mono setup: provision the box"
mono setup
say "mono setup again: idempotent, every step unchanged"
mono setup

say "on the box: the hardened unit template, the sudo rule, per-tenant routing in nginx"
on_box "systemctl cat tenants-web@.service | sed -n '1,22p'; echo; cat /etc/sudoers.d/mono-tenants; echo; sed -n '/location/,/proxy_pass/p' /etc/nginx/mono/tenants/proxy.conf"

say "mono deploy: v1"
mono deploy -m v1
v1=$(ask acme | sed 's/.*"release":"\([^"]*\)".*/\1/')

say "client load on the box (a new connection per request, tenants globex and initech), and a 20 s job for tenant acme"
on_box "rm -f /tmp/load.*; (setsid sh -c 'ok=0; bad=0; i=0; while [ ! -e /tmp/load.stop ]; do i=\$((i+1)); t=globex; [ \$((i%2)) = 0 ] && t=initech; c=\$(curl -s -o /dev/null -w %{http_code} --max-time 5 -H \"X-Tenant: \$t\" http://127.0.0.1:$port/); if [ \"\$c\" = 200 ]; then ok=\$((ok+1)); else bad=\$((bad+1)); fi; echo \"\$ok \$bad\" > /tmp/load.count; done' >/dev/null 2>&1 &)"
on_box "curl -s -X POST -H 'X-Tenant: acme' 'http://127.0.0.1:$port/jobs?seconds=20'"
sleep 1

say "mono deploy: v2 (one changed file), while acme's job runs on v1"
echo "// v2" >> server.mjs
mono deploy -m v2

say "right after: acme (busy) still on v1, everybody else already on v2"
printf 'acme:    %s\nglobex:  %s\ninitech: %s\n' "$(ask acme)" "$(ask globex)" "$(ask initech)"
mono handover status

say "mono handover follow: acme moves once its job is done, then v1 drains and exits by itself"
mono handover follow

say "after: acme on v2 too; the job finished on v1; v1 exited cleanly; failed requests under load"
printf 'acme:    %s\n' "$(ask acme)"
on_box "touch /tmp/load.stop; sleep 1; cat /srv/tenants/shared/storage/jobs.log; echo; systemctl show -p ActiveState,Result,ExecMainStatus tenants-web@$v1; read ok bad < /tmp/load.count; echo \"load: \$ok requests answered, \$bad failed\""

say "mono rollback: back to v1 through the same handover (no upload)"
mono rollback -m "demo"
printf 'acme:    %s\n' "$(ask acme)"

say "mono releases and mono audit"
mono releases
mono audit

say "the app's database (the jobs it ran), owned by the app user"
on_box "cd /tmp && runuser -u postgres -- psql -qc 'CREATE ROLE tenants LOGIN' -c 'CREATE DATABASE tenants OWNER tenants' && runuser -u tenants -- psql -qd tenants -c \"CREATE TABLE jobs (id serial PRIMARY KEY, tenant text, seconds int, done_at timestamptz DEFAULT now()); INSERT INTO jobs (tenant, seconds) SELECT (ARRAY['acme','globex','initech'])[1 + i % 3], i % 60 FROM generate_series(1, 50000) i\""

say "mono backup: pg_dump | zstd | age from one snapshot, counted and checked, copied to the offsite box and verified there"
mono backup
mono backups

say "on the offsite box: encrypted files only (the box's key can add files there, never delete or overwrite one)"
mono sandbox ssh --name "$name-offsite" -- "cd /srv/backups/tenants/tenants && ls -l */ && head -c 21 */dump.zst.age; echo"

say "mono restore-test: the drill: the offsite copy fetched with the box's key, restored into a throwaway cluster, every row checked"
mono restore-test

say "mono cron: what the box runs by itself (backups, drills, pruning, checks), and one job run now"
mono cron list
mono cron run disk

say "mono status: the box at a glance (exit 0: nothing is red)"
mono status

say "done. KEEP=1 leaves the boxes running to explore (mono sandbox ssh --name $name)."
if [ "${KEEP:-0}" = 1 ]; then echo "boxes left running: mono sandbox ssh --name $name; mono sandbox down --name $name; mono sandbox down --name $name-offsite" >&2; fi
