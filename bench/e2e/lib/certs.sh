# bench/e2e/lib/certs.sh — the PKI of an mTLS run, all under $WORK/certs:
#   ca.pem/ca.key                 a private CA (EC P-256, 30 days)
#   server.pem/server.key         the nginx backend's certificate (SAN localhost, 127.0.0.1)
#   NAME.crt/.key/.pem/.pfx/.pass  client certificates: PEM pair (nginx), cert+key in one
#                                 file (HAProxy), PFX + password file (ringgate, AES-256)
# EC keys keep generation of S5's hundred client certificates to a few seconds;
# the key type only changes handshake cost, and all three proxies pool their
# backend connections.

readonly CERT_DAYS=30

# Signs a new EC key's certificate for subject CN=$2, with the extensions that
# follow as further arguments; writes $1.crt and $1.key.
issue_cert() {
  local base=$1 cn=$2 ext exts=()
  shift 2
  for ext in "basicConstraints=critical,CA:FALSE" "$@"; do exts+=(-addext "$ext"); done
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$CERT_DAYS" \
    -subj "/CN=$cn" -keyout "$base.key" -out "$base.crt" \
    -CA "$WORK/certs/ca.pem" -CAkey "$WORK/certs/ca.key" "${exts[@]}" 2>/dev/null
}

# Client certificate NAME in every format the three proxies want.
issue_client_cert() {
  local base="$WORK/certs/$1"
  issue_cert "$base" "ringgate-bench-$1" "extendedKeyUsage=clientAuth"
  cat "$base.crt" "$base.key" >"$base.pem"
  printf 'bench-%s-%s\n' "$1" "$RANDOM" >"$base.pass"
  openssl pkcs12 -export -inkey "$base.key" -in "$base.crt" -certfile "$WORK/certs/ca.pem" \
    -name "$1" -passout "file:$base.pass" -out "$base.pfx"
  chmod 600 "$base.key" "$base.pem" "$base.pass" "$base.pfx"
}

# Creates the CA, the backend's server certificate, the client certificate
# "client" and, when $1 > 0, $1 more named c000, c001, … (scenario S5).
generate_certs() {
  local extra=$1 i
  mkdir -p "$WORK/certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$CERT_DAYS" \
    -subj "/CN=ringgate-bench-ca" -keyout "$WORK/certs/ca.key" -out "$WORK/certs/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    2>/dev/null
  issue_cert "$WORK/certs/server" localhost \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth"
  mv "$WORK/certs/server.crt" "$WORK/certs/server.pem"
  issue_client_cert client
  for ((i = 0; i < extra; i++)); do issue_client_cert "$(printf 'c%03d' "$i")"; done
}
