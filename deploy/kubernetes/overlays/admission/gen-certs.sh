#!/usr/bin/env sh
# The admission webhook's serving certificate without cert-manager: a private CA (kept in OUTDIR, never in the
# cluster) and a server certificate for the webhook Service, valid 365 days. Then, in the printed order:
#   kubectl -n sealwatch create secret tls sealwatch-admission-tls --cert OUTDIR/tls.crt --key OUTDIR/tls.key
#   and put OUTDIR/ca.bundle (base64 of ca.crt) into caBundle of both webhook configurations (the overlay's
#   ca-bundle-patch.yaml, or: kubectl patch … see docs/admission.md).
# Usage: gen-certs.sh OUTDIR [EXTRA-SAN…]    (EXTRA-SAN like DNS:name or IP:127.0.0.1)
# Env: SERVICE (sealwatch-admission), NAMESPACE (sealwatch), DAYS (365).
set -eu
out=${1:?usage: gen-certs.sh OUTDIR [EXTRA-SAN...]}
shift
service=${SERVICE:-sealwatch-admission}
namespace=${NAMESPACE:-sealwatch}
days=${DAYS:-365}
mkdir -p "$out"
umask 077
sans="DNS:${service},DNS:${service}.${namespace},DNS:${service}.${namespace}.svc,DNS:${service}.${namespace}.svc.cluster.local"
for extra in "$@"; do sans="${sans},${extra}"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
  -subj "/CN=sealwatch admission CA" -keyout "$out/ca.key" -out "$out/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=${service}.${namespace}.svc" -keyout "$out/tls.key" -out "$out/tls.csr" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n' "$sans" >"$out/tls.ext"
openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -days "$days" \
  -out "$out/tls.crt" -extfile "$out/tls.ext" 2>/dev/null
rm -f "$out/tls.csr" "$out/tls.ext" "$out/ca.srl"
base64 <"$out/ca.crt" | tr -d '\n' >"$out/ca.bundle"
chmod 644 "$out/tls.crt" "$out/ca.crt" "$out/ca.bundle"
echo "wrote $out/tls.crt, $out/tls.key (server, SANs: $sans), $out/ca.crt and $out/ca.bundle (caBundle)"
echo "next: kubectl -n $namespace create secret tls sealwatch-admission-tls --cert $out/tls.crt --key $out/tls.key"
