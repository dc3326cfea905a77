#!/usr/bin/env bash
# Throwaway Apache 2.4 mod_dav_fs WebDAV server on loopback, for tests.
#
#   webdav.sh start DIR PORT [--no-depth-infinity] [--no-locks] [--basic-auth USER:PASSWORD] [--access-log]
#   webdav.sh stop DIR
#
# start: a private Apache (config DIR/httpd.conf, logs DIR/log/, pid DIR/httpd.pid)
# serving DIR/data at http://127.0.0.1:PORT/dav/ with `Dav On`, and
# `DavDepthInfinity On` unless --no-depth-infinity (Apache then answers
# PROPFIND Depth: infinity with 403). --no-locks answers LOCK and UNLOCK with 405,
# as a server without WebDAV locking does. --basic-auth protects /dav/ with HTTP
# Basic authentication. --access-log writes every request to DIR/log/access.log in the
# combined format (unbuffered: a request is in the log when its answer has been sent).
#
# Files may be put into DIR/data directly (e.g. `touch -d '400 days ago'` them:
# getlastmodified is the file mtime). When run as root, Apache's workers run as
# www-data: DIR/data is owned by www-data and, when setfacl is available, has a
# default ACL giving www-data rwx on everything created inside it later.
#
# stop: SIGTERM the Apache parent process (SIGKILL after a few seconds) and
# wait until it and its workers are gone.
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

STOP_GRACE_SECONDS=${STOP_GRACE_SECONDS:-5}
APACHE_MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
RUN_USER=www-data
RUN_GROUP=www-data

die() { echo "webdav.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
T_START=$(now)
elapsed() {
  awk -v a="$T_START" -v b="$(now)" -v n="$1" 'BEGIN { printf "webdav.sh: %-28s %6.3f s\n", n, b - a }'
}

# children_of PID: direct children (Apache workers) of PID
children_of() {
  if ls /proc/"$1"/task/*/children >/dev/null 2>&1; then
    cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+$' || true
  elif command -v pgrep >/dev/null 2>&1; then
    pgrep -P "$1" || true
  fi
}

cmd_start() {
  [ $# -ge 2 ] || die "usage: webdav.sh start DIR PORT [--no-depth-infinity] [--no-locks] [--basic-auth USER:PASSWORD]"
  DIR=$1 PORT=$2
  shift 2
  local depth_infinity=On auth="" methods_module="" methods="" access_log=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --no-depth-infinity) depth_infinity=Off ;;
      --no-locks)
        methods_module="LoadModule allowmethods_module $APACHE_MODULES/mod_allowmethods.so"
        methods="AllowMethods GET HEAD POST OPTIONS PUT DELETE PROPFIND PROPPATCH MKCOL COPY MOVE" ;;
      --basic-auth) [ $# -ge 2 ] || die "--basic-auth needs USER:PASSWORD"; auth=$2; shift ;;
      --basic-auth=*) auth=${1#--basic-auth=} ;;
      --access-log) access_log=yes ;;
      *) die "unknown option $1" ;;
    esac
    shift
  done
  if [ -n "$auth" ] && [[ "$auth" != *:* ]]; then die "--basic-auth needs USER:PASSWORD"; fi

  [[ "$PORT" =~ ^[0-9]+$ ]] || die "bad port $PORT"
  ! is_listening "$PORT" || die "port 127.0.0.1:$PORT is already in use"
  local apache2_bin
  apache2_bin=$(command -v apache2 2>/dev/null || true)
  [ -n "$apache2_bin" ] || [ ! -x /usr/sbin/apache2 ] || apache2_bin=/usr/sbin/apache2
  [ -n "$apache2_bin" ] || die "apache2 not found; run scripts/servers/install-debian-packages.sh"
  [ -e "$APACHE_MODULES/mod_dav_fs.so" ] || die "mod_dav_fs not found in $APACHE_MODULES"

  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  [ ! -e "$DIR/apache2.pid" ] && [ ! -e "$DIR/httpd.pid" ] || die "$DIR has a pid file; stop it first"
  mkdir -p "$DIR/data" "$DIR/lock" "$DIR/log" "$DIR/run" "$DIR/www"
  # The www-data workers must be able to reach DIR/data (mkdtemp makes 0700).
  chmod 755 "$DIR"

  local user_conf=""
  if [ "$(id -u)" -eq 0 ]; then
    user_conf="User $RUN_USER
Group $RUN_GROUP"
    chown -R "$RUN_USER:$RUN_GROUP" "$DIR/data" "$DIR/lock"
    if command -v setfacl >/dev/null 2>&1; then
      # Whatever the tests (root) create in DIR/data stays usable by Apache.
      setfacl -R -m "u:$RUN_USER:rwX" -m "d:u:$RUN_USER:rwX" "$DIR/data" \
        || echo "webdav.sh: warning: setfacl failed; files put into $DIR/data by root may not be writable over WebDAV" >&2
    fi
  fi

  local log_conf=""
  if [ -n "$access_log" ]; then
    # Apache's own "combined" LogFormat line, as the README shows it.
    log_conf="LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{Referer}i\\\" \\\"%{User-Agent}i\\\"\" combined
CustomLog \"$DIR/log/access.log\" combined"
  fi

  local mime_types=/etc/mime.types
  [ -e "$mime_types" ] || { mime_types="$DIR/mime.types"; : >"$mime_types"; }

  local auth_modules="" access="Require all granted"
  if [ -n "$auth" ]; then
    local user=${auth%%:*} password=${auth#*:}
    command -v htpasswd >/dev/null 2>&1 || die "htpasswd not found (apache2-utils)"
    htpasswd -b -c -m "$DIR/htpasswd" "$user" "$password" 2>/dev/null || die "htpasswd failed"
    chmod 644 "$DIR/htpasswd"
    auth_modules="LoadModule authn_core_module $APACHE_MODULES/mod_authn_core.so
LoadModule authn_file_module $APACHE_MODULES/mod_authn_file.so
LoadModule auth_basic_module $APACHE_MODULES/mod_auth_basic.so
LoadModule authz_user_module $APACHE_MODULES/mod_authz_user.so"
    access="AuthType Basic
    AuthName \"sstate-keeper test WebDAV\"
    AuthBasicProvider file
    AuthUserFile \"$DIR/htpasswd\"
    Require valid-user"
  fi

  cat >"$DIR/httpd.conf" <<EOF
ServerRoot "$DIR"
ServerName 127.0.0.1
Listen 127.0.0.1:$PORT
PidFile "$DIR/httpd.pid"
DefaultRuntimeDir "$DIR/run"
ErrorLog "$DIR/log/error.log"
LogLevel warn
$log_conf

LoadModule mpm_event_module $APACHE_MODULES/mod_mpm_event.so
LoadModule authz_core_module $APACHE_MODULES/mod_authz_core.so
LoadModule mime_module $APACHE_MODULES/mod_mime.so
LoadModule alias_module $APACHE_MODULES/mod_alias.so
LoadModule dav_module $APACHE_MODULES/mod_dav.so
LoadModule dav_fs_module $APACHE_MODULES/mod_dav_fs.so
$auth_modules
$methods_module

$user_conf

StartServers 1
ServerLimit 4
ThreadsPerChild 32
MaxRequestWorkers 128
MinSpareThreads 8
MaxSpareThreads 96
Timeout 60
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
# Uploads of any size (sstate archives can be large); 0 = unlimited.
LimitRequestBody 0
LimitXMLRequestBody 0

TypesConfig "$mime_types"
DavLockDB "$DIR/lock/DavLock"

DocumentRoot "$DIR/www"
<Directory />
    Options None
    AllowOverride None
    Require all denied
</Directory>
<Directory "$DIR/www">
    Require all granted
</Directory>

Alias /dav "$DIR/data"
<Directory "$DIR/data">
    Options None
    AllowOverride None
    Dav On
    DavDepthInfinity $depth_infinity
    $methods
    $access
</Directory>
EOF

  "$apache2_bin" -t -f "$DIR/httpd.conf" >"$DIR/log/configtest.out" 2>&1 \
    || { cat "$DIR/log/configtest.out" >&2; die "apache2 config test failed"; }

  # Foreground process, detached from the caller's session; its pid is the
  # Apache parent (the same number Apache writes to its PidFile).
  setsid "$apache2_bin" -f "$DIR/httpd.conf" -DFOREGROUND </dev/null >"$DIR/log/apache2.out" 2>&1 &
  local pid=$!
  echo "$pid" >"$DIR/apache2.pid"

  local deadline=$(( $(date +%s) + 20 ))
  until port_owned_by "$pid" "$PORT"; do
    if ! pid_alive "$pid"; then
      echo "webdav.sh: apache2 (pid $pid) exited; last log lines:" >&2
      tail -n 20 "$DIR/log/apache2.out" "$DIR/log/error.log" >&2 2>/dev/null || true
      rm -f "$DIR/apache2.pid"
      die "apache2 failed to start (logs in $DIR/log)"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$DIR/apache2.pid"
      die "apache2 did not listen on 127.0.0.1:$PORT within 20 s (logs in $DIR/log)"
    fi
    sleep 0.01
  done
  elapsed "start total"
  echo "webdav.sh: WebDAV on http://127.0.0.1:$PORT/dav/ (data in $DIR/data, depth infinity $depth_infinity${auth:+, basic auth user ${auth%%:*}})"
}

cmd_stop() {
  [ $# -ge 1 ] || die "usage: webdav.sh stop DIR"
  DIR=$1
  local pidfile="$DIR/apache2.pid" pid
  if [ ! -s "$pidfile" ]; then
    pidfile="$DIR/httpd.pid" # written by Apache itself
  fi
  if [ ! -s "$pidfile" ]; then
    echo "webdav.sh: no pid file in $DIR; nothing to stop"
    return 0
  fi
  pid=$(cat "$pidfile")
  [[ "$pid" =~ ^[0-9]+$ ]] || die "bad pid in $pidfile"
  local comm
  comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
  if pid_alive "$pid" && [ "$comm" != apache2 ] && [ "$comm" != setsid ]; then
    echo "webdav.sh: pid $pid in $pidfile is not apache2 any more; nothing to stop" >&2
    rm -f "$DIR/apache2.pid" "$DIR/httpd.pid"
    return 0
  fi
  local workers
  workers=$(children_of "$pid" | tr '\n' ' ')
  if pid_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
  local deadline killed=0 p alive
  deadline=$(( $(date +%s%N) / 1000000 + STOP_GRACE_SECONDS * 1000 ))
  while :; do
    alive=""
    for p in $pid $workers; do
      if pid_alive "$p"; then alive="$alive $p"; fi
    done
    [ -n "$alive" ] || break
    if [ $(( $(date +%s%N) / 1000000 )) -ge "$deadline" ]; then
      [ "$killed" = 0 ] || die "processes still alive after SIGKILL:$alive"
      echo "webdav.sh: apache2 did not stop on SIGTERM; sending SIGKILL to$alive" >&2
      # shellcheck disable=SC2086
      kill -KILL $alive 2>/dev/null || true
      killed=1
      deadline=$(( $(date +%s%N) / 1000000 + 10000 ))
    fi
    sleep 0.01
  done
  rm -f "$DIR/apache2.pid" "$DIR/httpd.pid"
  elapsed "stop total"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) die "usage: webdav.sh start DIR PORT [--no-depth-infinity] [--no-locks] [--basic-auth USER:PASSWORD] [--access-log] | webdav.sh stop DIR" ;;
esac
