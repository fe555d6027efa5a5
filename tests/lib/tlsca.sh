#!/bin/sh
# Per-run throw-away PKI for TLS tests. usage: tlsca.sh DIR
# Makes in DIR: ca.pem/ca.key (the test CA), server.pem/server.key (CN=localhost,
# subjectAltName=DNS:localhost,IP:127.0.0.1, signed by the CA, serverAuth), and
# wrong-ca.pem/wrong-ca.key (a second, unrelated CA: a client trusting only it must refuse
# the server). Keys are mode 0600. Idempotent: does nothing if DIR/server.pem exists.
# Modeled on shared/peers/tls-selftest.sh (EC P-256, 2-day validity).
set -eu
D=$1
[ -s "$D/server.pem" ] && exit 0
mkdir -p "$D"; chmod 0700 "$D"
cd "$D"
umask 077
ec() { openssl req "$@" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes 2>/dev/null; }
ec -x509 -keyout ca.key -out ca.pem -subj "/CN=ampstream test CA $$" -days 2
ec -x509 -keyout wrong-ca.key -out wrong-ca.pem -subj "/CN=ampstream unrelated CA $$" -days 2
ec -keyout server.key -out server.csr -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
    -days 2 -extfile server.ext 2>/dev/null
rm -f server.csr server.ext ca.srl
chmod 0644 ca.pem wrong-ca.pem server.pem
openssl verify -CAfile ca.pem server.pem >/dev/null
