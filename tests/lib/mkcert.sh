#!/bin/sh
# mkcert.sh DIR - make a throwaway test CA and a server certificate for
# 127.0.0.1 / ::1 / localhost in DIR: ca.pem, server.pem, server.key.
# For tests only: keys are unencrypted and live as long as DIR.
set -eu
dir=${1:?usage: mkcert.sh DIR}
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
	-subj "/CN=alertbridge test CA" -keyout ca.key -out ca.pem \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	>/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
	-keyout server.key -out server.csr >/dev/null 2>&1
cat > server.ext <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
EOF
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	-sha256 -extfile server.ext -out server.pem >/dev/null 2>&1
rm -f server.csr server.ext ca.srl
chmod 600 ca.key server.key
