# Process and port helpers shared by radosgw.sh and webdav.sh (sourced, not run).

# is_listening PORT: true when something accepts TCP connections on 127.0.0.1:PORT
is_listening() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# listen_inode PORT: socket inode of the TCP listener on 127.0.0.1:PORT (empty if none)
listen_inode() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v a="0100007F:$hex" '$2 == a && $4 == "0A" { print $10; exit }' /proc/net/tcp
}

# port_owned_by PID PORT: true when process PID holds the listener on 127.0.0.1:PORT
port_owned_by() {
  local inode
  inode=$(listen_inode "$2")
  [ -n "$inode" ] || return 1
  [ -n "$(find "/proc/$1/fd" -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null)" ]
}

# pid_alive PID: true while the process exists and is not a zombie
pid_alive() {
  local state
  [ -e "/proc/$1" ] || return 1
  state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
