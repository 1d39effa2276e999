#!/usr/bin/env bash
# A host of real Debian daemons for the service-detection benchmark, in namespaces of its own:
# the scanner pwd-scan (198.18.99.1) and the host pwd-svc (198.18.99.2) joined by a veth pair.
# Nothing is connected to the root namespace. Run as root.
#
#   bench/daemons.sh deps      install the daemons (they are kept from starting on this machine)
#   bench/daemons.sh up        start them; prints the TCP and UDP port lists
#   bench/daemons.sh scan CMD  run CMD in the scanner namespace
#   bench/daemons.sh down
#
# TCP: vsftpd 21, sshd 22, dnsmasq 53, rpcbind 111, nginx 80 and 443 (TLS), rsync 873, mosquitto 1883,
# Squid 3128, PostgreSQL 5432, redis 6379, ngIRCd 6667, lighttpd 8081, tinyproxy 8888, git daemon 9418,
# memcached 11211, rpc.statd 32765, MariaDB 3306. UDP: dnsmasq 53, rpcbind 111, chronyd 123, snmpd 161, rpc.statd 32765,
# memcached 11211.
set -euo pipefail
SCAN=pwd-scan SVC=pwd-svc IP=198.18.99.2 DIR=${DAEMONS_DIR:-/tmp/portwatch-daemons}
TCP_PORTS=21,22,53,80,111,443,873,1883,3128,3306,5432,6379,6667,8081,8888,9418,11211,32765
UDP_PORTS=53,111,123,161,11211,32765
PACKAGES=(openssh-server nginx redis-server postgresql openssl dnsmasq-base memcached snmpd chrony mosquitto vsftpd rsync git
  ngircd tinyproxy squid lighttpd rpcbind nfs-common mariadb-server nmap iproute2)

in_svc() { ip netns exec "$SVC" "$@"; }
daemon() { local name=$1; shift; (ip netns exec "$SVC" "$@" >"$DIR/$name.log" 2>&1 &); }

deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return
  local made=""
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made=1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -z "$made" ] || rm -f /usr/sbin/policy-rc.d
}

up() {
  down >/dev/null 2>&1 || true
  rm -rf "$DIR" && mkdir -p "$DIR"/{www,empty,statd/sm,statd/sm.bak,pg,nb,np,nf,nu,ns}
  ip netns add "$SCAN"; ip netns add "$SVC"
  ip link add pwd0 netns "$SCAN" type veth peer name pwd1 netns "$SVC"
  ip -n "$SCAN" addr add 198.18.99.1/24 dev pwd0; ip -n "$SVC" addr add "$IP/24" dev pwd1
  for ns in "$SCAN" "$SVC"; do ip -n "$ns" link set lo up; done
  ip -n "$SCAN" link set pwd0 up; ip -n "$SVC" link set pwd1 up
  local d=$DIR
  echo '<html><head><title>PortWatch bench</title></head><body>ok</body></html>' >"$d/www/index.html"

  mkdir -p /run/sshd; ssh-keygen -q -t ed25519 -N '' -f "$d/ssh_host_key"
  printf 'Port 22\nListenAddress %s\nHostKey %s/ssh_host_key\nPidFile %s/sshd.pid\nUsePAM no\n' "$IP" "$d" "$d" >"$d/sshd_config"
  daemon sshd /usr/sbin/sshd -D -e -f "$d/sshd_config"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -keyout "$d/tls.key" -out "$d/tls.crt" -subj /CN=bench.example 2>/dev/null
  cat >"$d/nginx.conf" <<NGINX
daemon off; worker_processes 1; pid $d/nginx.pid; error_log $d/nginx.err;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $d/nb; proxy_temp_path $d/np; fastcgi_temp_path $d/nf; uwsgi_temp_path $d/nu; scgi_temp_path $d/ns;
  server { listen $IP:80; root $d/www; }
  server { listen $IP:443 ssl; ssl_certificate $d/tls.crt; ssl_certificate_key $d/tls.key; root $d/www; } }
NGINX
  daemon nginx /usr/sbin/nginx -c "$d/nginx.conf"
  daemon redis /usr/bin/redis-server --bind "$IP" --port 6379 --save "" --appendonly no --protected-mode no --dir "$d"
  printf 'listen=YES\nlisten_address=%s\nbackground=NO\nanonymous_enable=YES\nanon_root=%s/empty\nlocal_enable=NO\nsecure_chroot_dir=%s/empty\nnopriv_user=nobody\nseccomp_sandbox=NO\n' "$IP" "$d" "$d" >"$d/vsftpd.conf"
  daemon vsftpd /usr/sbin/vsftpd "$d/vsftpd.conf"
  printf 'pid file = %s/rsyncd.pid\nuse chroot = no\n[www]\npath = %s/www\nread only = yes\n' "$d" "$d" >"$d/rsyncd.conf"
  daemon rsync /usr/bin/rsync --daemon --no-detach --config="$d/rsyncd.conf" --address="$IP" --port=873
  daemon git /usr/lib/git-core/git-daemon --listen="$IP" --port=9418 --base-path="$d" --reuseaddr
  printf 'listener 1883 %s\nallow_anonymous true\nuser root\npersistence false\n' "$IP" >"$d/mosquitto.conf"
  daemon mosquitto /usr/sbin/mosquitto -c "$d/mosquitto.conf"
  printf '[Global]\nName = irc.bench.test\nListen = %s\nPorts = 6667\nPidFile = %s/ngircd.pid\nServerUID = nobody\nServerGID = nogroup\n[Options]\nIdent = no\nDNS = no\nPAM = no\n' "$IP" "$d" >"$d/ngircd.conf"
  daemon ngircd /usr/sbin/ngircd --nodaemon --config "$d/ngircd.conf"
  printf 'Port 8888\nListen %s\nUser nobody\nGroup nogroup\nMaxClients 20\nTimeout 60\n' "$IP" >"$d/tinyproxy.conf"
  daemon tinyproxy /usr/bin/tinyproxy -d -c "$d/tinyproxy.conf"
  printf 'http_port %s:3128\nhttp_access deny all\ncache deny all\naccess_log none\ncache_log %s/squid-cache.log\npid_filename %s/squid.pid\ncoredump_dir %s\nshutdown_lifetime 0 seconds\n' "$IP" "$d" "$d" "$d" >"$d/squid.conf"
  daemon squid /usr/sbin/squid -N -f "$d/squid.conf"
  printf 'server.document-root = "%s/www"\nserver.bind = "%s"\nserver.port = 8081\nserver.pid-file = "%s/lighttpd.pid"\nserver.errorlog = "%s/lighttpd.err"\n' "$d" "$IP" "$d" "$d" >"$d/lighttpd.conf"
  daemon lighttpd /usr/sbin/lighttpd -D -f "$d/lighttpd.conf"
  local pg; pg=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  chown postgres "$d/pg" && chmod 700 "$d/pg" && chmod 755 "$d"
  runuser -u postgres -- "$pg/initdb" -D "$d/pg" -U postgres --auth=trust >/dev/null
  daemon postgres runuser -u postgres -- "$pg/postgres" -D "$d/pg" -h "$IP" -k "$d/pg" -p 5432
  daemon dnsmasq /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address="$IP" --port=53 --pid-file="$d/dnsmasq.pid" --user=root --group=root
  mariadb-install-db --no-defaults --datadir="$d/mariadb" --user=root --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1
  daemon mariadb /usr/sbin/mariadbd --no-defaults --datadir="$d/mariadb" --socket="$d/mariadb.sock" --pid-file="$d/mariadb.pid" --bind-address="$IP" --port=3306 --user=root --skip-grant-tables --skip-name-resolve
  daemon memcached /usr/bin/memcached -u root -l "$IP" -p 11211 -U 11211
  printf 'rocommunity public default\n' >"$d/snmpd.conf"
  daemon snmpd /usr/sbin/snmpd -f -Lo -C -c "$d/snmpd.conf" -p "$d/snmpd.pid" "udp:$IP:161"
  printf 'allow all\nbindaddress %s\ncmdport 0\nlocal stratum 10\npidfile %s/chronyd.pid\n' "$IP" "$d" >"$d/chrony.conf"
  daemon chronyd /usr/sbin/chronyd -d -x -u root -f "$d/chrony.conf"
  # rpcbind keeps a machine-wide lock and socket in /run: it and rpc.statd (which registers through that socket) get a /run of their own.
  printf 'mount -t tmpfs tmpfs /run\n/usr/sbin/rpcbind -f -w &\nfor i in $(seq 1 100); do [ -S /run/rpcbind.sock ] && break; sleep 0.1; done\nexec /usr/sbin/rpc.statd -F --no-notify -p 32765 -o 32766 -P %s/statd\n' "$d" >"$d/rpc.sh"
  daemon rpc unshare --mount --propagation private /bin/sh "$d/rpc.sh"
  for _ in $(seq 1 150); do
    local open=0
    for p in ${TCP_PORTS//,/ }; do in_svc ss -Hlnt | grep -q ":$p " && open=$((open + 1)); done
    [ "$open" = "$(echo "$TCP_PORTS" | tr ',' '\n' | wc -l)" ] && break
    sleep 0.2
  done
  echo "host $IP"; echo "tcp $TCP_PORTS"; echo "udp $UDP_PORTS"
}

down() {
  if ip netns list | grep -qw "$SVC"; then
    for pid in $(ip netns pids "$SVC"); do kill -9 "$pid" 2>/dev/null || true; done
  fi
  ip netns del "$SVC" 2>/dev/null || true
  ip netns del "$SCAN" 2>/dev/null || true
}

case ${1:-} in
  deps) deps ;;
  up) up ;;
  down) down ;;
  scan) shift; exec ip netns exec "$SCAN" "$@" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
