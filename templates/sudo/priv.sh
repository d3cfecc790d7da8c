#!/bin/sh
# Managed by mono: the only command {{user}} may run as root (through sudo) for {{app}}.
# Every argument is checked here against a fixed list; anything else is refused.
set -eu
APP='{{app}}'
APP_USER='{{user}}'
ROOT='{{root}}'
PROCESSES=' {{processes}} '
# socket: the web process listens on /run/APP/RELEASE.sock itself; port: on a loopback port, bridged to that path.
WEB_LISTEN='{{web_listen}}'

die() {
  echo "mono-priv: $*" >&2
  exit 64
}

valid_process() {
  case "$1" in
    '' | *[!a-z0-9_-]*) return 1 ;;
  esac
  case "$PROCESSES" in
    *" $1 "*) return 0 ;;
  esac
  return 1
}

valid_release() {
  case "$1" in
    '' | .* | -* | *[!A-Za-z0-9._-]*) return 1 ;;
  esac
  return 0
}

valid_pg_name() {
  case "$1" in
    '' | [!a-z_]* | *[!a-z0-9_]*) return 1 ;;
  esac
  [ ${#1} -le 63 ]
}

# <name>__restoring: the only databases this helper creates or drops
valid_staging() {
  case "$1" in
    *__restoring) valid_pg_name "$1" ;;
    *) return 1 ;;
  esac
}

valid_locale() {
  case "$1" in
    '' | *[!A-Za-z0-9_.@-]*) return 1 ;;
  esac
  return 0
}

psql_postgres() {
  (cd / && runuser -u postgres -- psql -X -d postgres "$@")
}

# A restore drill or a restore as the app user in a transient unit: its processes and private /tmp go with the unit
# however it ends; --pipe --wait give the caller its output and exit status. Usage: restore_unit KIND ID WHAT [PROPERTY…]
restore_unit() {
  kind=$1 id=$2 what=$3
  shift 3
  exec systemd-run --quiet --collect --pipe --wait --service-type=exec \
    --unit="$APP-$kind-$id" \
    --description="$APP: $what $id" \
    --property=User="$APP_USER" --property=Group="$APP_USER" \
    --property=WorkingDirectory="$ROOT" --property=UMask=0077 \
    --property=PrivateTmp=yes --property=ProtectHome=read-only \
    --property=KillMode=control-group --property=TimeoutStopSec=30s \
    "$@" \
    {{agent_bin}} agent restore-test-run --root "$ROOT" --id "$id"
}

verb=${1:-}
[ $# -gt 0 ] && shift

case "$verb" in
  start | stop | restart | reload | is-active | status)
    [ $# -eq 2 ] || die "usage: $verb PROCESS RELEASE"
    valid_process "$1" || die "unknown process type: $1"
    valid_release "$2" || die "bad release id: $2"
    exec systemctl --no-pager "$verb" "$APP-$1@$2.service"
    ;;
  enable)
    # start an instance and start it again after a reboot
    [ $# -eq 2 ] || die "usage: enable PROCESS RELEASE"
    valid_process "$1" || die "unknown process type: $1"
    valid_release "$2" || die "bad release id: $2"
    if [ "$1" = web ] && [ "$WEB_LISTEN" = port ]; then systemctl enable --now --quiet "$APP-bridge@$2.socket"; fi
    exec systemctl enable --now --quiet "$APP-$1@$2.service"
    ;;
  retire)
    # no restart after a reboot, and stop without waiting: the instance drains and exits on its own
    [ $# -eq 2 ] || die "usage: retire PROCESS RELEASE"
    valid_process "$1" || die "unknown process type: $1"
    valid_release "$2" || die "bad release id: $2"
    systemctl disable --quiet "$APP-$1@$2.service"
    if [ "$1" = web ] && [ "$WEB_LISTEN" = port ]; then
      # no new connections through the bridge; the ones open finish (the bridge exits when idle)
      systemctl disable --quiet "$APP-bridge@$2.socket"
      systemctl stop --no-block "$APP-bridge@$2.socket"
    fi
    exec systemctl stop --no-block "$APP-$1@$2.service"
    ;;
  logs)
    [ $# -eq 3 ] || die "usage: logs PROCESS RELEASE LINES"
    valid_process "$1" || die "unknown process type: $1"
    valid_release "$2" || die "bad release id: $2"
    case "$3" in '' | *[!0-9]*) die "bad line count: $3" ;; esac
    exec journalctl --no-pager --output=short-iso --lines="$3" --unit="$APP-$1@$2.service"
    ;;
  journal)
    # mono logs: the app's units in journald, optionally followed; PROCESS and RELEASE may be "all"
    [ $# -eq 5 ] || die "usage: journal PROCESS|all RELEASE|all LINES SINCE|- follow|once"
    if [ "$1" = all ]; then p='*'; else valid_process "$1" || die "unknown process type: $1"; p=$1; fi
    if [ "$2" = all ]; then r='*'; else valid_release "$2" || die "bad release id: $2"; r=$2; fi
    case "$3" in '' | *[!0-9]*) die "bad line count: $3" ;; esac
    case "$4" in
      - | -[0-9]*[smhd] | [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] | [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9] | today | yesterday) ;;
      *) die "bad --since: $4 (use -30m, -2h, -1d, YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS, today or yesterday)" ;;
    esac
    case "$4" in -?*[!0-9smhd]*) die "bad --since: $4" ;; esac
    # systemd reads "m" as minutes, and a date and time with a space between them
    since=$(printf '%s' "$4" | sed -e 's/T/ /' -e 's/^\(-[0-9]*\)m$/\1min/')
    case "$5" in follow | once) mode=$5 ;; *) die "bad mode: $5" ;; esac
    set -- --no-pager --output=short-iso --lines="$3" --unit="$APP-$p@$r.service"
    [ "$since" = - ] || set -- "$@" --since="$since"
    [ "$mode" != follow ] || set -- "$@" --follow
    exec journalctl "$@"
    ;;
  run-release)
    # the Procfile's release command, once, in the new release's environment, hardened like the units
    [ $# -eq 1 ] || die "usage: run-release RELEASE"
    valid_release "$1" || die "bad release id: $1"
    [ -f "$ROOT/releases/$1/.mono/procs/release" ] || die "release $1 has no release command"
    exec systemd-run --quiet --wait --pipe --collect --service-type=exec \
      --unit="$APP-release-$1" \
      --property=User="$APP_USER" --property=Group="$APP_USER" \
      --property=WorkingDirectory="$ROOT/releases/$1" \
      --property=EnvironmentFile=-"$ROOT/shared/.env" \
      --property=UMask=0007 --property=NoNewPrivileges=yes --property=ProtectSystem=strict --property=ProtectHome=yes \
      --property=PrivateTmp=yes --property=PrivateDevices=yes --property=ProtectKernelTunables=yes \
      --property=ProtectKernelModules=yes --property=ProtectControlGroups=yes --property=RestrictSUIDSGID=yes \
      --property=RestrictNamespaces=yes --property=LockPersonality=yes --property=SystemCallArchitectures=native \
      --property="SystemCallFilter=@system-service @pkey" --property="RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
      --property=CapabilityBoundingSet= \
      --property=ReadWritePaths="$ROOT/shared /run/$APP" \
      --setenv=MONO_APP="$APP" --setenv=MONO_PROCESS=release --setenv=MONO_RELEASE="$1" \
      /bin/sh "$ROOT/releases/$1/.mono/procs/release"
    ;;
  handover)
    # the handover runner, as the app user, in a transient unit: it outlives the SSH connection of the deploy that started it
    [ $# -eq 1 ] || die "usage: handover ID"
    valid_release "$1" || die "bad handover id: $1"
    [ -f "$ROOT/.mono/handover/$1.json" ] || die "no handover $1 under $ROOT/.mono/handover"
    exec systemd-run --quiet --collect --service-type=exec \
      --unit="$APP-handover-$1" \
      --description="$APP: handover $1" \
      --property=User="$APP_USER" --property=Group="$APP_USER" \
      --property=WorkingDirectory="$ROOT" --property=UMask=0077 \
      --property=PrivateTmp=yes \
      --property=KillMode=mixed --property=TimeoutStopSec=30s \
      {{agent_bin}} agent handover run --root "$ROOT" --id "$1"
    ;;
  drill)
    # a restore drill, as the app user, in a transient unit: its throwaway cluster and private /tmp go with the unit,
    # however the drill ends (even killed); --pipe --wait give the caller its output and exit status
    [ $# -eq 1 ] || die "usage: drill ID"
    valid_release "$1" || die "bad drill id: $1"
    [ -f "$ROOT/.mono/drills/$1.json" ] || die "no drill $1 under $ROOT/.mono/drills"
    restore_unit drill "$1" "restore drill" --property=NoNewPrivileges=yes
    ;;
  restore)
    # mono restore: the same unit as a drill, without NoNewPrivileges, because the restore asks this helper (pg-*
    # verbs below) to create the staging database and to swap it in
    [ $# -eq 1 ] || die "usage: restore ID"
    valid_release "$1" || die "bad restore id: $1"
    [ -f "$ROOT/.mono/drills/$1.json" ] || die "no restore $1 under $ROOT/.mono/drills"
    restore_unit restore "$1" "restore"
    ;;
  pg-role)
    # the app user's own database role (a login, nothing more), for a restore onto a new box
    [ $# -eq 0 ] || die "usage: pg-role"
    valid_pg_name "$APP_USER" || die "the app user $APP_USER is not a PostgreSQL role name"
    if [ "$(psql_postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$APP_USER'")" != 1 ]; then
      cd / && runuser -u postgres -- createuser --login --no-superuser --no-createdb --no-createrole "$APP_USER"
    fi
    ;;
  pg-createdb)
    # the staging database of a restore: a new database owned by the app user, named <name>__restoring
    [ $# -eq 4 ] || die "usage: pg-createdb NAME__restoring ENCODING COLLATE CTYPE"
    valid_staging "$1" || die "bad staging database name: $1"
    for v in "$2" "$3" "$4"; do valid_locale "$v" || die "bad encoding or locale: $v"; done
    cd / && exec runuser -u postgres -- createdb --template=template0 --owner="$APP_USER" --encoding="$2" --lc-collate="$3" --lc-ctype="$4" -- "$1"
    ;;
  pg-dropdb)
    # only a staging database (a restore that failed)
    [ $# -eq 1 ] || die "usage: pg-dropdb NAME__restoring"
    valid_staging "$1" || die "bad staging database name: $1"
    cd / && exec runuser -u postgres -- dropdb --if-exists -- "$1"
    ;;
  pg-swapdb)
    # a checked staging database becomes NAME; a NAME that exists is kept as NAME_before_STAMP, never dropped
    [ $# -eq 3 ] || die "usage: pg-swapdb NAME__restoring NAME STAMP"
    valid_staging "$1" || die "bad staging database name: $1"
    [ "$1" = "$2__restoring" ] || die "the staging database of $2 is $2__restoring"
    case "$3" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) ;; *) die "bad stamp: $3" ;; esac
    kept="$2_before_$(echo "$3" | tr 'TZ' 'tz')"
    if [ "$(psql_postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$2'")" = 1 ]; then
      psql_postgres -v ON_ERROR_STOP=1 -qc "ALTER DATABASE \"$2\" RENAME TO \"$kept\"" || die "$2 is in use: stop what is connected to it (the app), then run the restore again"
      echo "kept the database that was there as $kept"
    fi
    psql_postgres -v ON_ERROR_STOP=1 -qc "ALTER DATABASE \"$1\" RENAME TO \"$2\""
    ;;
  nginx-reload)
    [ $# -eq 0 ] || die "usage: nginx-reload"
    nginx -t -q
    exec systemctl reload nginx
    ;;
  daemon-reload)
    [ $# -eq 0 ] || die "usage: daemon-reload"
    exec systemctl daemon-reload
    ;;
  *)
    die "unknown command: ${verb:-(none)} (allowed: start stop restart reload is-active status enable retire logs journal run-release handover drill restore pg-role pg-createdb pg-dropdb pg-swapdb nginx-reload daemon-reload)"
    ;;
esac
