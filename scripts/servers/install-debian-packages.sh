#!/usr/bin/env bash
# Install the Debian 12 packages the real-server integration tests need:
# Ceph (mon, memstore OSD, radosgw) for S3, Apache 2.4 mod_dav_fs for WebDAV,
# libfaketime for backdated S3 objects, zstd for siginfo fixtures, acl (setfacl)
# so that files the tests (root) put into the WebDAV data dir stay writable by
# the www-data Apache workers.
# Idempotent: does nothing (no apt-get update) when everything is installed.
# Never leaves a system Apache or Ceph service running: policy-rc.d forbids
# starting services during the install (one is created for the duration if
# the machine has none).
set -euo pipefail

PACKAGES=(radosgw ceph-mon ceph-osd ceph-common apache2 apache2-utils faketime libfaketime zstd acl curl)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

t0=$(date +%s.%N)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-debian-packages: all packages already installed"
else
  echo "install-debian-packages: installing ${missing[*]}"
  # Keep maintainer scripts from starting services (Debian's policy-rc.d
  # convention; 101 = action forbidden). Only add one if none exists, and
  # remove only the one we created.
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  cleanup_policy() {
    if [ "$created_policy" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
  }
  trap cleanup_policy EXIT
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null

  # Make sure this install left no system service running or enabled (in case
  # policy-rc.d was ignored, e.g. with systemd as PID 1). Only for packages this
  # run installed: a developer's own, pre-existing Apache is left alone.
  units=()
  case " ${missing[*]} " in *" apache2 "*) units+=(apache2 apache-htcacheclean) ;; esac
  case " ${missing[*]} " in *" ceph-"*|*" radosgw "*)
    units+=(ceph.target ceph-mon.target ceph-osd.target ceph-radosgw.target ceph-mds.target ceph-crash) ;;
  esac
  if [ "${#units[@]}" -gt 0 ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    for unit in "${units[@]}"; do
      $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
    done
  fi
  case " ${missing[*]} " in *" apache2 "*)
    for pidfile in /run/apache2/apache2.pid /var/run/apache2/apache2.pid; do
      if [ -s "$pidfile" ]; then
        pid=$(cat "$pidfile")
        if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = apache2 ]; then
          echo "install-debian-packages: stopping the system apache2 (pid $pid) the install started"
          $SUDO kill "$pid" || true
        fi
      fi
    done ;;
  esac
fi

t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "install-debian-packages: done in %.1f s\n", b - a }'
