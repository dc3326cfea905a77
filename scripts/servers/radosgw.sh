#!/usr/bin/env bash
# Throwaway single-node Ceph cluster + RADOS Gateway (S3) on loopback, for tests.
#
#   radosgw.sh start DIR PORT FAKED_PORT [MON_PORT]
#   radosgw.sh stop DIR
#
# start: 1 monitor, 1 memstore OSD (in memory, ~1 GiB cap), auth none, and two
# gateways sharing the cluster:
#   http://127.0.0.1:PORT        normal clock
#   http://127.0.0.1:FAKED_PORT  under libfaketime (FAKETIME=-400d): objects
#                                written here get LastModified 400 days ago.
# S3 credentials: access key "sstatekeeper", secret "sstatekeeper-secret".
# Every daemon PID is written to DIR/<name>.pid; logs are in DIR/log/.
# MON_PORT defaults to a free loopback port.
#
# stop: SIGTERM every daemon recorded in DIR/*.pid (the faketime gateway gets
# SIGKILL right away: under libfaketime it may ignore SIGTERM), SIGKILL
# whatever is left after STOP_GRACE_SECONDS (5), and wait until all are gone.
# A pid whose process is not the expected daemon (pid reuse) is left alone.
#
# Daemons are started with setsid, detached from the caller's process group.
# Never run this under `timeout`.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

ACCESS_KEY=sstatekeeper
SECRET_KEY=sstatekeeper-secret
S3_UID=sstatekeeper
OSD_BYTES=$((1024 * 1024 * 1024))
FAKETIME_OFFSET=-400d
STOP_GRACE_SECONDS=${STOP_GRACE_SECONDS:-5}

die() { echo "radosgw.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
T_PHASE=$(now)
T_START=$T_PHASE
phase() { # phase NAME: print the time since the previous phase
  local t
  t=$(now)
  awk -v a="$T_PHASE" -v b="$t" -v n="$1" 'BEGIN { printf "radosgw.sh: %-28s %6.2f s\n", n, b - a }'
  T_PHASE=$t
}
total() {
  awk -v a="$T_START" -v b="$(now)" -v n="$1" 'BEGIN { printf "radosgw.sh: %-28s %6.2f s\n", n, b - a }'
}

find_libfaketime() {
  local f
  for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1 /usr/local/lib/faketime/libfaketimeMT.so.1; do
    if [ -e "$f" ]; then echo "$f"; return 0; fi
  done
  return 1
}

free_port() {
  local py
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null 2>&1; then
      "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
      return 0
    fi
  done
  die "need python3 to pick a free monitor port (or pass MON_PORT)"
}

# spawn NAME CMD...: start a daemon detached, record its pid in DIR/NAME.pid
spawn() {
  local name=$1; shift
  setsid "$@" </dev/null >"$DIR/log/$name.out" 2>&1 &
  echo $! >"$DIR/$name.pid"
}

# check_alive NAME: fail with the daemon's log tail when it died
check_alive() {
  local name=$1 pid
  pid=$(cat "$DIR/$name.pid")
  if ! pid_alive "$pid"; then
    echo "radosgw.sh: $name (pid $pid) exited; last log lines:" >&2
    tail -n 30 "$DIR/log/$name.out" >&2 2>/dev/null || true
    tail -n 30 "$DIR/log/$name.log" >&2 2>/dev/null || true
    die "$name failed to start (logs in $DIR/log)"
  fi
}

# wait_port NAME PORT SECONDS: wait until daemon NAME listens on 127.0.0.1:PORT
wait_port() {
  local name=$1 port=$2 deadline pid
  deadline=$(( $(date +%s) + $3 ))
  pid=$(cat "$DIR/$name.pid")
  until port_owned_by "$pid" "$port"; do
    check_alive "$name"
    [ "$(date +%s)" -lt "$deadline" ] || die "$name did not listen on 127.0.0.1:$port within $3 s (logs in $DIR/log)"
    sleep 0.1
  done
}

cmd_start() {
  [ $# -ge 3 ] || die "usage: radosgw.sh start DIR PORT FAKED_PORT [MON_PORT]"
  DIR=$1 PORT=$2 FAKED_PORT=$3 MON_PORT=${4:-}
  for b in ceph ceph-mon ceph-osd radosgw radosgw-admin monmaptool; do
    command -v "$b" >/dev/null 2>&1 || die "$b not found; run scripts/servers/install-debian-packages.sh"
  done
  LIBFAKETIME=$(find_libfaketime) || die "libfaketimeMT.so.1 not found; run scripts/servers/install-debian-packages.sh"
  [ -n "$MON_PORT" ] || MON_PORT=$(free_port)
  local p
  for p in "$PORT" "$FAKED_PORT" "$MON_PORT"; do
    [[ "$p" =~ ^[0-9]+$ ]] || die "bad port $p"
    ! is_listening "$p" || die "port 127.0.0.1:$p is already in use"
  done

  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  if ls "$DIR"/*.pid >/dev/null 2>&1; then die "$DIR already has pid files; stop it first"; fi
  mkdir -p "$DIR/log" "$DIR/run" "$DIR/mon" "$DIR/osd" "$DIR/rgw"
  # On any failure below, stop whatever was already started.
  trap 'rc=$?; if [ $rc -ne 0 ]; then echo "radosgw.sh: start failed; stopping what was started" >&2; cmd_stop "$DIR" >&2 || true; fi' EXIT

  local fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)

  cat >"$DIR/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
ms mon client mode = crc
ms client mode = crc
ms mon service mode = crc
ms service mode = crc
ms mon cluster mode = crc
ms cluster mode = crc
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = true
mon cluster log file = $DIR/log/cluster.log
crash dir = $DIR/crash
keyring = $DIR/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
# Paxos batches map changes for 1 s by default: every pool/OSD change (rgw
# creates ~7 pools on first use) would cost a second.
paxos propose interval = 0.02
paxos min wait = 0.005
debug ms = 0
debug monc = 0
debug auth = 0

[mon]
mon data = $DIR/mon/\$cluster-\$id

[osd]
osd data = $DIR/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = $OSD_BYTES
osd max object name len = 460
osd max object namespace len = 64
osd op num shards = 2
osd op num threads per shard = 2
# Do not wait for the monitor to acknowledge our shutdown.
osd mon shutdown timeout = 0.5

[client]
rgw data = $DIR/rgw/\$cluster-\$id
rgw enable usage log = false
debug rgw = 1

[client.rgw.main]
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1

[client.rgw.faked]
rgw frontends = beast endpoint=127.0.0.1:$FAKED_PORT tcp_nodelay=1
EOF
  export CEPH_CONF="$DIR/ceph.conf"
  : >"$DIR/keyring"
  phase "config"

  # --- monitor ---
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/run/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$DIR/run/monmap" >"$DIR/log/mon.a.mkfs.out" 2>&1 \
    || { cat "$DIR/log/mon.a.mkfs.out" >&2; die "ceph-mon --mkfs failed"; }
  spawn mon.a ceph-mon -f -i a
  wait_port mon.a "$MON_PORT" 30
  phase "monitor"

  # --- OSD (same UUID for `osd new` and --mkfs, or it stays "booting") ---
  local osd_id
  osd_id=$(ceph --connect-timeout 30 osd new "$osd_uuid" 2>"$DIR/log/osd.new.err") \
    || { cat "$DIR/log/osd.new.err" >&2; die "ceph osd new failed"; }
  mkdir -p "$DIR/osd/ceph-$osd_id"
  ceph-osd -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >"$DIR/log/osd.$osd_id.mkfs.out" 2>&1 \
    || { cat "$DIR/log/osd.$osd_id.mkfs.out" >&2; die "ceph-osd --mkfs failed"; }
  spawn "osd.$osd_id" ceph-osd -f -i "$osd_id"
  local deadline=$(( $(date +%s) + 60 ))
  until [[ "$(ceph --connect-timeout 10 osd stat 2>/dev/null || true)" == *" 1 up"* ]]; do
    check_alive "osd.$osd_id"
    [ "$(date +%s)" -lt "$deadline" ] || die "OSD did not come up within 60 s (logs in $DIR/log)"
    sleep 0.2
  done
  phase "osd up"

  # --- S3 user (also creates the default realm/zone and the rgw pools) ---
  radosgw-admin -n client.rgw.main user create --uid="$S3_UID" --display-name="sstate-keeper tests" \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >"$DIR/log/user-create.out" 2>&1 \
    || { cat "$DIR/log/user-create.out" >&2; die "radosgw-admin user create failed"; }
  phase "s3 user"

  # --- gateways ---
  spawn client.rgw.main radosgw -f -n client.rgw.main
  # libfaketime also fakes CLOCK_MONOTONIC unless told not to; a monotonic
  # clock 400 days in the past is not useful and only the wall clock matters.
  spawn client.rgw.faked env LD_PRELOAD="$LIBFAKETIME" FAKETIME="$FAKETIME_OFFSET" \
    FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_NO_CACHE=1 \
    radosgw -f -n client.rgw.faked
  wait_port client.rgw.main "$PORT" 60
  wait_port client.rgw.faked "$FAKED_PORT" 60
  phase "gateways listening"
  trap - EXIT
  total "start total"
  echo "radosgw.sh: S3 on http://127.0.0.1:$PORT (faked clock: http://127.0.0.1:$FAKED_PORT), key $ACCESS_KEY"
}

# daemon_comm NAME: the process name (/proc/PID/comm) of daemon NAME
daemon_comm() {
  case "$1" in
    mon.*) echo ceph-mon ;;
    osd.*) echo ceph-osd ;;
    *) echo radosgw ;;
  esac
}

cmd_stop() {
  [ $# -ge 1 ] || die "usage: radosgw.sh stop DIR"
  DIR=$1
  [ -d "$DIR" ] || { echo "radosgw.sh: $DIR does not exist; nothing to stop"; return 0; }
  local f pid name comm pids=() names=()
  shopt -s nullglob
  for f in "$DIR"/*.pid; do
    pid=$(cat "$f" 2>/dev/null || true)
    name=$(basename "$f" .pid)
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if pid_alive "$pid" && [ "$comm" != "$(daemon_comm "$name")" ] && [ "$comm" != setsid ] && [ "$comm" != env ]; then
      echo "radosgw.sh: pid $pid in $f is not $(daemon_comm "$name") any more; ignoring it" >&2
      rm -f "$f"
      continue
    fi
    pids+=("$pid"); names+=("$name")
  done
  # SIGTERM everyone (SIGKILL for the faketime gateway, which ignores SIGTERM)
  local i
  for i in "${!pids[@]}"; do
    if pid_alive "${pids[$i]}"; then
      if [ "${names[$i]}" = client.rgw.faked ]; then
        kill -KILL "${pids[$i]}" 2>/dev/null || true
      else
        kill -TERM "${pids[$i]}" 2>/dev/null || true
      fi
    fi
  done
  local deadline killed=0 alive gone=() t_stop
  t_stop=$(now)
  deadline=$(( $(date +%s%N) / 1000000 + STOP_GRACE_SECONDS * 1000 ))
  while :; do
    alive=()
    for i in "${!pids[@]}"; do
      if pid_alive "${pids[$i]}"; then
        alive+=("$i")
      elif [ -z "${gone[$i]:-}" ]; then
        gone[$i]=1
        awk -v a="$t_stop" -v b="$(now)" -v n="stopped ${names[$i]}" 'BEGIN { printf "radosgw.sh: %-28s %6.2f s\n", n, b - a }'
      fi
    done
    [ ${#alive[@]} -gt 0 ] || break
    if [ "$killed" = 0 ] && [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
      for i in "${alive[@]}"; do
        echo "radosgw.sh: ${names[$i]} (pid ${pids[$i]}) ignored SIGTERM; sending SIGKILL" >&2
        kill -KILL "${pids[$i]}" 2>/dev/null || true
      done
      killed=1
      deadline=$(( $(date +%s%N) / 1000000 + 10000 ))
    elif [ "$killed" = 1 ] && [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
      local left=()
      for i in "${alive[@]}"; do left+=("${names[$i]}=${pids[$i]}"); done
      die "processes still alive after SIGKILL: ${left[*]}"
    fi
    sleep 0.05
  done
  for i in "${!pids[@]}"; do rm -f "$DIR/${names[$i]}.pid"; done
  awk -v a="$t_stop" -v b="$(now)" 'BEGIN { printf "radosgw.sh: %-28s %6.2f s\n", "stop total", b - a }'
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: radosgw.sh start DIR PORT FAKED_PORT [MON_PORT] | radosgw.sh stop DIR" ;;
esac
