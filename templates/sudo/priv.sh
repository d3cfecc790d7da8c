#!/bin/sh
# Managed by mono: the only command {{user}} may run as root (through sudo) for {{app}}.
# Every argument is checked here against a fixed list; anything else is refused.
set -eu
APP='{{app}}'
PROCESSES=' {{processes}} '

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
    die "unknown command: ${verb:-(none)} (allowed: start stop restart reload is-active status nginx-reload daemon-reload)"
    ;;
esac
