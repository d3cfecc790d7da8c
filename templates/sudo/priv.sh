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
    exec systemd-run --quiet --collect --pipe --wait --service-type=exec \
      --unit="$APP-drill-$1" \
      --description="$APP: restore drill $1" \
      --property=User="$APP_USER" --property=Group="$APP_USER" \
      --property=WorkingDirectory="$ROOT" --property=UMask=0077 \
      --property=PrivateTmp=yes --property=NoNewPrivileges=yes --property=ProtectHome=read-only \
      --property=KillMode=control-group --property=TimeoutStopSec=30s \
      {{agent_bin}} agent restore-test-run --root "$ROOT" --id "$1"
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
    die "unknown command: ${verb:-(none)} (allowed: start stop restart reload is-active status enable retire logs run-release handover drill nginx-reload daemon-reload)"
    ;;
esac
