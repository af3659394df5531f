# bench/e2e/lib/configs.sh — configuration files for the backend and the three
# proxies (the floor needs none), all under $WORK. Every proxy gets the same work:
#   - routes /small/, /big/, /upload/ (and /k000/ … /k099/ in S5) by path prefix,
#     path passed unchanged, anything else answered 404 by the proxy itself;
#   - keeps connections to the backend alive (HTTP/1.1, no per-connection request
#     limit) and, with --backend mtls, presents a client certificate over TLS and
#     verifies the backend against the bench CA (name "localhost"/127.0.0.1);
#   - adds X-Forwarded-For/-Proto/-Host (ringgate always does, DESIGN §4.6);
#   - streams request bodies (nginx: proxy_request_buffering off) and never
#     spools to disk; no access log; client keep-alive up to 300 s.
# Expects: ACCESS_LOG WORK BACKEND_MODE WORKERS BACKEND_WORKERS S5_APIS FD_LIMIT MAX_CONNS and the ports
# BE_PORT BE_DIRECT_PORT BE_PLAIN_PORT S5_PORT_BASE RG_PORT RG_ADMIN_PORT NGX_PORT HAP_PORT.

readonly SMALL_BODY_BYTES=128
readonly BIG_BODY_BYTES=65536
readonly ECHO_MODULE=/usr/share/nginx/modules/ngx_http_echo_module.so

# nginx drops privileges to its default user when started as root; that user
# could not read the run's 0700 temp dir.
nginx_user_line() { [[ $(id -u) -eq 0 ]] && echo "user root;"; return 0; }

# nginx's temp paths default to /var/lib/nginx; keep them in the run's dir.
nginx_temp_paths() {
  local d=$1 t
  for t in client_body proxy fastcgi uwsgi scgi; do
    mkdir -p "$d/tmp/$t"
    echo "  ${t}_temp_path $d/tmp/$t;"
  done
}

# The backend: one nginx ($BACKEND_WORKERS workers). /big/64k is a static file,
# /upload/ reads the whole request body before answering (echo module), every
# other path answers a $SMALL_BODY_BYTES-byte body. mtls: the main port demands
# a client certificate from the bench CA; BE_DIRECT_PORT is the same server
# without client verification (wrk, for S8, cannot present a certificate), and
# BE_PLAIN_PORT the same without TLS, for the floor (plain: BE_PORT itself).
# $1: 1 when S5 runs in plain mode (one extra listening port per API).
write_backend_config() {
  local with_s5_ports=$1 d="$WORK/backend" i body tls_main="" tls_direct=""
  mkdir -p "$d/www/big"
  head -c "$BIG_BODY_BYTES" /dev/zero | tr '\0' 'b' >"$d/www/big/64k"
  body=$(printf "%${SMALL_BODY_BYTES}s" '' | tr ' ' 's')
  cat >"$d/locations.conf" <<EOF
    location / { return 200 "$body"; }
    location /big/ { root $d/www; }
    location /upload/ { echo_read_request_body; echo "ok"; }
EOF
  if [[ "$BACKEND_MODE" == mtls ]]; then
    tls_direct="ssl_certificate $WORK/certs/server.pem; ssl_certificate_key $WORK/certs/server.key;"
    tls_main="$tls_direct ssl_client_certificate $WORK/certs/ca.pem; ssl_verify_client on;"
  fi
  {
    echo "daemon off; master_process on; worker_processes $BACKEND_WORKERS;"
    echo "pid $d/nginx.pid; error_log $d/error.log warn; worker_rlimit_nofile $FD_LIMIT;"
    nginx_user_line
    echo "load_module $ECHO_MODULE;"
    echo "events { worker_connections $MAX_CONNS; }"
    echo "http {"
    echo "  access_log off; default_type text/plain; sendfile on; tcp_nodelay on;"
    echo "  keepalive_timeout 300s; keepalive_requests 1000000;"
    echo "  client_max_body_size 16m; client_body_buffer_size 2m;"
    echo "  ssl_session_cache shared:backend:10m;"
    nginx_temp_paths "$d"
    echo "  server {"
    echo "    listen 127.0.0.1:$BE_PORT${tls_main:+ ssl};"
    if ((with_s5_ports)); then
      for ((i = 0; i < S5_APIS; i++)); do echo "    listen 127.0.0.1:$((S5_PORT_BASE + i));"; done
    fi
    [[ -n "$tls_main" ]] && echo "    $tls_main"
    echo "    include $d/locations.conf;"
    echo "  }"
    if [[ "$BACKEND_MODE" == mtls ]]; then
      echo "  server { listen 127.0.0.1:$BE_DIRECT_PORT ssl; $tls_direct include $d/locations.conf; }"
      [[ -n "${BE_PLAIN_PORT:-}" && "$BE_PLAIN_PORT" != "$BE_PORT" ]] &&
        echo "  server { listen 127.0.0.1:$BE_PLAIN_PORT; include $d/locations.conf; }"
    fi
    echo "}"
  } >"$d/nginx.conf"
}

# Backend origin of API index $1 in S5 (-1: the shared backend of S1-S4, S6, S7).
backend_origin() {
  local scheme=http port=$BE_PORT
  [[ "$BACKEND_MODE" == mtls ]] && scheme=https
  [[ "$BACKEND_MODE" == plain && $1 -ge 0 ]] && port=$((S5_PORT_BASE + $1))
  echo "$scheme://127.0.0.1:$port"
}

# API ids of scenario $1, one per line: small big upload, or k000 … for S5.
scenario_apis() {
  local i
  if [[ "$1" == S5 ]]; then
    for ((i = 0; i < S5_APIS; i++)); do printf 'k%03d\n' "$i"; done
  else
    printf '%s\n' small big upload
  fi
}

# Client certificate name for API $1 (S5's k017 uses c017; the rest "client").
api_cert() { if [[ "$1" == k* ]]; then echo "c${1#k}"; else echo client; fi; }

# Backend origin for API $1.
api_origin() { if [[ "$1" == k* ]]; then backend_origin "$((10#${1#k}))"; else backend_origin -1; fi; }

# --- ringgate --------------------------------------------------------------------

write_ringgate_config() {
  local scenario=$1 d="$WORK/ringgate" api sep="" cert policy
  mkdir -p "$d"
  echo "bench-$RANDOM$RANDOM" >"$d/admin.token"
  {
    echo "{"
    echo "  \"gateway\": {"
    echo "    \"workers\": $WORKERS,"
    echo "    \"listeners\": [{\"address\": \"127.0.0.1:$RG_PORT\"}],"
    echo "    \"admin\": {\"address\": \"127.0.0.1:$RG_ADMIN_PORT\", \"tokenFile\": \"admin.token\"},"
    echo "    \"limits\": {\"maxBodyBytes\": 16777216, \"maxConnections\": 100000},"
    echo "    \"timeouts\": {\"clientIdleMs\": 300000, \"backendResponseMs\": 60000, \"drainMs\": 1000},"
    printf '    "pool": {"minIdle": 4, "maxPerKey": 1024, "idleTimeoutMs": 300000}'
    if ((ACCESS_LOG)); then printf ',\n    "accessLog": {"path": "access.log"}'; fi
    printf '\n'
    echo "  },"
    if [[ "$BACKEND_MODE" == mtls ]]; then
      echo "  \"certificates\": {"
      for cert in $(scenario_apis "$scenario" | while read -r api; do api_cert "$api"; done | sort -u); do
        printf '%s    "%s": {"pfxFile": "%s", "passwordFile": "%s"}' "$sep" "$cert" \
          "$WORK/certs/$cert.pfx" "$WORK/certs/$cert.pass"
        sep=$',\n'
      done
      printf '\n  },\n'
      echo "  \"backends\": {\"bench\": {\"url\": \"$(backend_origin -1)\","
      echo "    \"tls\": {\"validateCertificateChain\": true, \"validateCertificateName\": true},"
      echo "    \"caFile\": \"$WORK/certs/ca.pem\"}},"
    fi
    echo "  \"apis\": {"
    sep=""
    for api in $(scenario_apis "$scenario"); do
      policy=""
      if [[ "$BACKEND_MODE" == mtls ]]; then
        policy=", \"policy\": \"<policies><inbound><authentication-certificate certificate-id=\\\"$(api_cert "$api")\\\"/></inbound></policies>\""
      fi
      printf '%s    "%s": {"path": "%s", "serviceUrl": "%s/%s"%s}' "$sep" "$api" "$api" \
        "$(api_origin "$api")" "$api" "$policy"
      sep=$',\n'
    done
    printf '\n  }\n}\n'
  } >"$d/ringgate.json"
}

# --- nginx as the proxy -------------------------------------------------------------

write_nginx_proxy_config() {
  local scenario=$1 d="$WORK/nginx" api scheme=http cert
  [[ "$BACKEND_MODE" == mtls ]] && scheme=https
  mkdir -p "$d"
  {
    echo "daemon off; master_process on; worker_processes $WORKERS;"
    echo "pid $d/nginx.pid; error_log $d/error.log warn; worker_rlimit_nofile $FD_LIMIT;"
    nginx_user_line
    echo "events { worker_connections $MAX_CONNS; }"
    echo "http {"
    echo "  access_log off; tcp_nodelay on; keepalive_timeout 300s; keepalive_requests 1000000;"
    echo "  client_max_body_size 16m; proxy_request_buffering off; proxy_max_temp_file_size 0;"
    echo "  proxy_http_version 1.1; proxy_set_header Connection \"\";"
    echo "  proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
    echo "  proxy_set_header X-Forwarded-Proto \$scheme; proxy_set_header X-Forwarded-Host \$host;"
    if [[ "$scheme" == https ]]; then
      echo "  proxy_ssl_trusted_certificate $WORK/certs/ca.pem; proxy_ssl_verify on;"
      echo "  proxy_ssl_name localhost; proxy_ssl_session_reuse on;"
    fi
    nginx_temp_paths "$d"
    # One upstream block per API: nginx's keep-alive cache belongs to the
    # upstream block, so APIs with different client certificates must not share
    # one (a connection made with one certificate would serve the other).
    for api in $(scenario_apis "$scenario"); do
      echo "  upstream up_$api { server $(api_origin "$api" | sed 's|^.*://||');"
      echo "    keepalive 64; keepalive_requests 1000000; keepalive_timeout 300s; }"
    done
    echo "  server {"
    echo "    listen 127.0.0.1:$NGX_PORT;"
    for api in $(scenario_apis "$scenario"); do
      echo -n "    location /$api/ { proxy_pass $scheme://up_$api;"
      if [[ "$scheme" == https ]]; then
        cert=$(api_cert "$api")
        echo -n " proxy_ssl_certificate $WORK/certs/$cert.crt;"
        echo -n " proxy_ssl_certificate_key $WORK/certs/$cert.key;"
      fi
      echo " }"
    done
    echo "    location / { default_type application/json;"
    echo "      return 404 '{\"statusCode\":404,\"message\":\"Resource not found\"}'; }"
    echo "  }"
    echo "}"
  } >"$d/nginx.conf"
}

# --- HAProxy ---------------------------------------------------------------------

write_haproxy_config() {
  local scenario=$1 d="$WORK/haproxy" api server_opts=""
  mkdir -p "$d"
  : >"$d/apis.map"
  for api in $(scenario_apis "$scenario"); do echo "$api be_$api" >>"$d/apis.map"; done
  {
    echo "global"
    echo "  nbthread $WORKERS"
    echo "  maxconn $MAX_CONNS"
    # HAProxy wants 2 fds per connection and by default refuses to start when
    # it cannot raise the limit that far; idle client connections need only one.
    echo "  no strict-limits"
    echo "defaults"
    echo "  mode http"
    echo "  timeout connect 5s"
    echo "  timeout client 300s"
    echo "  timeout server 60s"
    echo "  timeout http-request 10s"
    echo "  timeout http-keep-alive 300s"
    echo "  option forwardfor"
    echo "  http-reuse always"
    echo "frontend fe"
    echo "  bind 127.0.0.1:$HAP_PORT"
    echo "  http-request set-header X-Forwarded-Proto http"
    echo "  http-request set-header X-Forwarded-Host %[req.hdr(host)]"
    # A map lookup on the first path segment: HAProxy's idiomatic O(log n) route table.
    echo "  use_backend %[path,field(2,/),map($d/apis.map,be_not_found)]"
    echo "backend be_not_found"
    echo "  http-request return status 404 content-type application/json string '{\"statusCode\":404,\"message\":\"Resource not found\"}'"
    for api in $(scenario_apis "$scenario"); do
      server_opts=""
      if [[ "$BACKEND_MODE" == mtls ]]; then
        server_opts=" ssl crt $WORK/certs/$(api_cert "$api").pem ca-file $WORK/certs/ca.pem verify required verifyhost localhost"
      fi
      echo "backend be_$api"
      echo "  server be $(api_origin "$api" | sed 's|^.*://||')$server_opts"
    done
  } >"$d/haproxy.cfg"
}
