# An upload server for the scripts that need one (sourced; not a test itself): Debian's nginx
# with WebDAV PUT on 127.0.0.1, in its own prefix under $T/nginx, started and stopped by PID,
# as tests/unit/test-upload-harness.h does for the unit tests. Batches land in $T/www/up/.
#   nginx_start      starts it (same port each time) and waits until it accepts connections
#   nginx_stop       stops it (SIGQUIT, then SIGKILL)
#   nginx_batches    the number of batch files received
#   upload_conf      the puente.conf section that points puented at it
nginx_pid= nginx_port=

nginx_have() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }

nginx_start() {
	local bin
	bin=$(command -v nginx || echo /usr/sbin/nginx)
	if [ -z "$nginx_port" ]; then
		nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	fi
	mkdir -p "$T/nginx/tmp" "$T/www/up"
	cat >"$T/nginx/nginx.conf" <<NGINX
$([ "$(id -u)" = 0 ] && echo "user root root;") worker_processes 1; pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 64; }
http { access_log $T/nginx/access.log;
 client_body_temp_path $T/nginx/tmp/body; proxy_temp_path $T/nginx/tmp/proxy;
 fastcgi_temp_path $T/nginx/tmp/fcgi; uwsgi_temp_path $T/nginx/tmp/uwsgi;
 scgi_temp_path $T/nginx/tmp/scgi; client_max_body_size 64m;
 server { listen 127.0.0.1:$nginx_port; root $T/www;
  location /up/ { dav_methods PUT; create_full_put_path on; dav_access user:rw group:r all:r; } } }
NGINX
	"$bin" -p "$T/nginx/" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" \
		-g "daemon off; master_process on;" 2>>"$T/nginx/error.log" &
	nginx_pid=$!
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null; then return 0; fi
		kill -0 "$nginx_pid" 2>/dev/null || { tail -5 "$T/nginx/error.log"; fail "nginx died at start"; }
		sleep 0.1
	done
	fail "nginx did not listen on $nginx_port"
}

nginx_stop() {
	[ -n "$nginx_pid" ] || return 0
	kill -QUIT "$nginx_pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$nginx_pid" 2>/dev/null || true
	wait "$nginx_pid" 2>/dev/null || true
	nginx_pid=
}

nginx_batches() { find "$T/www/up" -name '*.ndjson.gz' 2>/dev/null | wc -l; }

# upload_conf DEVICE: the upload section (short intervals so that a test sees batches).
upload_conf() {
	cat <<CONF
upload {
  url = "http://127.0.0.1:$nginx_port/up"
  device = "$1"
  interval = 1m
  batch_interval = 10s
  backoff_max = 1m
  timeout = 5s
}
CONF
}
