#!/usr/bin/env bash
# Debian packages for the tests, demo and benchmarks: the sandbox tools (debootstrap, systemd-nspawn), OpenSSH.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "error: run as root (it installs Debian packages and boots systemd-nspawn boxes)" >&2
  exit 6
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# time: GNU time (/usr/bin/time -f %M), the benchmarks' peak-RSS measurement.
# age: the tests make an operator's recovery key with age-keygen, as an operator does on their own machine.
apt-get install -y -q --no-install-recommends debootstrap systemd-container openssh-client ca-certificates age time
