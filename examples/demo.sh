#!/usr/bin/env bash
# The README's demo: boot a local Debian 12 box (systemd-nspawn), provision it with `mono setup`,
# show that a second run changes nothing, deploy the example app twice (the second time only one file
# is sent), roll back to the first, and list releases and the audit log. KEEP=1 leaves the box running.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mono() { node "$root/dist/cli/mono.mjs" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

[ -f dist/cli/mono.mjs ] || npm run build
name=${NAME:-demo}
work=$(mktemp -d)
cleanup() {
  if [ "${KEEP:-0}" != 1 ]; then mono sandbox down --name "$name" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say "booting sandbox box '$name' (the first run builds a cached Debian root, about 2 minutes)"
mono sandbox up --name "$name" > "$work/box.yml"

cp examples/hello/Procfile examples/hello/server.js examples/hello/migrate.js "$work/"
{ echo "app: hello"; cat "$work/box.yml"; echo "shared: [storage]"; } > "$work/mono.yml"
printf 'mono.yml\nbox.yml\n' > "$work/.monoignore"
cd "$work"

say "mono.yml"
cat mono.yml
say "mono config (validated, resolved, secrets redacted)"
mono config | head -20

say "mono setup --dry-run: the plan, nothing changes"
mono setup --dry-run

say "mono setup: provision the box"
mono setup

say "mono setup again: idempotent, every step unchanged"
mono setup

say "on the box: the hardened unit template, the sudo rule, the nginx site"
mono sandbox ssh --name "$name" -- "systemctl cat hello-web@.service | sed -n '1,25p'; echo; cat /etc/sudoers.d/mono-hello; echo; nginx -t 2>&1 | tail -1; ls -la /srv/hello; mono --version"

say "the deploy user may run mono's helper, and nothing else as root"
mono sandbox ssh --name "$name" -- "su -s /bin/sh hello -c 'sudo -n /usr/local/lib/mono/priv-hello is-active web none; sudo -n systemctl stop ssh' || true"

port=$(sed -n 's/.*listen: "127.0.0.1:\([0-9]*\)".*/\1/p' box.yml)
say "mono deploy: package, send, verify on the box, run the release command, switch"
mono deploy
mono sandbox ssh --name "$name" -- "curl -s http://127.0.0.1:$port/; cat /srv/hello/shared/storage/migrations.log"

say "change one file and deploy again: only that file is sent"
sed -i 's/hello from release/hello again from release/' server.js
mono deploy
mono sandbox ssh --name "$name" -- "curl -s http://127.0.0.1:$port/"

say "mono rollback: back to the release active before (same activation, no upload)"
mono rollback -m "demo"
mono sandbox ssh --name "$name" -- "curl -s http://127.0.0.1:$port/"

say "mono releases and mono audit"
mono releases
mono audit

say "done. KEEP=1 leaves the box running to explore (mono sandbox ssh --name $name)."
if [ "${KEEP:-0}" = 1 ]; then echo "box left running: mono sandbox ssh --name $name; mono sandbox down --name $name" >&2; fi
