#!/bin/sh
# Managed by mono: the only thing the backup key of {{app}}'s box may run here (authorized_keys: restrict,command="…").
# It can add a backup file, read one, hash one and list them. It can never delete or overwrite one, so a compromised
# app box cannot destroy its offsite history. Usage (from SSH_ORIGINAL_COMMAND):
#   put DB ID NAME SHA256   (the file on stdin; written to a temporary name, checked, then linked in without clobbering)
#   sha256 DB ID NAME | get DB ID NAME | list
set -eu
umask 077
ROOT=$1
APP=$2
refuse() {
  echo "mono-offsite: refused: $*" >&2
  exit 64
}
valid() {
  case "$1" in '' | *[!a-z0-9_]*) refuse "bad database name" ;; esac
  case "$2" in [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) ;; *) refuse "bad backup id" ;; esac
  case "$3" in dump.zst | dump.pgdump | globals.sql.zst | dump.zst.age | dump.pgdump.age | globals.sql.zst.age | manifest.json) ;; *) refuse "bad file name" ;; esac
}
# Split the requested command into words, with globbing off: nothing in it is ever expanded or run.
set -f
# shellcheck disable=SC2086
set -- ${SSH_ORIGINAL_COMMAND:-}
verb=${1:-}
[ $# -gt 0 ] && shift
case "$verb" in
  put)
    [ $# -eq 4 ] || refuse "usage: put DB ID NAME SHA256"
    valid "$1" "$2" "$3"
    case "$4" in *[!0-9a-f]* | '') refuse "bad sha256" ;; esac
    dir="$ROOT/$APP/$1/$2"
    dest="$dir/$3"
    [ -e "$dest" ] && { echo "mono-offsite: $1/$2/$3 exists: backups are never overwritten" >&2; exit 17; }
    mkdir -p "$dir"
    tmp="$dir/.$3.tmp.$$"
    trap 'rm -f "$tmp"' EXIT
    cat > "$tmp"
    got=$(sha256sum "$tmp" | cut -d' ' -f1)
    [ "$got" = "$4" ] || { echo "mono-offsite: $1/$2/$3 arrived damaged (sha256 $got, expected $4)" >&2; exit 65; }
    sync "$tmp" 2>/dev/null || true
    # ln fails if the name exists: never a clobber, even if two uploads race.
    ln "$tmp" "$dest" || { echo "mono-offsite: $1/$2/$3 exists: backups are never overwritten" >&2; exit 17; }
    sync "$dir" 2>/dev/null || true
    echo "stored $1/$2/$3"
    ;;
  sha256)
    [ $# -eq 3 ] || refuse "usage: sha256 DB ID NAME"
    valid "$1" "$2" "$3"
    [ -f "$ROOT/$APP/$1/$2/$3" ] || { echo "mono-offsite: $1/$2/$3 is missing" >&2; exit 66; }
    sha256sum "$ROOT/$APP/$1/$2/$3" | cut -d' ' -f1
    ;;
  get)
    [ $# -eq 3 ] || refuse "usage: get DB ID NAME"
    valid "$1" "$2" "$3"
    [ -f "$ROOT/$APP/$1/$2/$3" ] || { echo "mono-offsite: $1/$2/$3 is missing" >&2; exit 66; }
    exec cat "$ROOT/$APP/$1/$2/$3"
    ;;
  list)
    [ $# -eq 0 ] || refuse "usage: list"
    [ -d "$ROOT/$APP" ] || exit 0
    cd "$ROOT/$APP" && find . -mindepth 3 -maxdepth 3 -type f ! -name '.*' -printf '%P %s\n' | sort
    ;;
  *)
    refuse "only put, sha256, get and list are allowed (got: ${verb:-nothing})"
    ;;
esac
