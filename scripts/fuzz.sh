#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ with the address sanitizer and runs each for SECONDS seconds
# (default 10) over a corpus seeded with the kinds of input the tests use (made here with openssl).
# `make test` runs them briefly; `make fuzz SECONDS=3600` as long as asked. The corpus grows in
# .build/fuzz/corpus across runs; a crash fails the run and leaves its input in .build/fuzz/crashes/.
set -euo pipefail
seconds="${1:-10}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/.build/fuzz"
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$work/corpus" "$work/crashes" "$seeds"

flags=(-c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
(cd "$root/Fuzz" && touch Package.swift && swift build "${flags[@]}" 2>&1 | grep -E "error|warning: .*Fuzz/|Compiling|Build" | tail -n 3)
bin="$(cd "$root/Fuzz" && swift build "${flags[@]}" --show-bin-path)"

# Seeds: real examples of each input, from openssl.
s="$seeds/tmp"
mkdir -p "$s" "$seeds"/{FuzzOCSPRequest,FuzzCSR,FuzzCertificateImport,FuzzFlatJSON,FuzzPEM,FuzzDistinguishedName,FuzzTimestampReply,FuzzHTTPHead,FuzzESTRequest,FuzzSCEPMessage,FuzzACMEJWS,FuzzDNSMessage,FuzzCMPMessage}
ssl() { openssl "$@" >/dev/null 2>&1; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$s/ca.key" -subj "/CN=Fuzz CA/O=Custos" -days 2 -out "$s/ca.pem"
ssl x509 -in "$s/ca.pem" -outform DER -out "$s/ca.der"
ssl ocsp -issuer "$s/ca.pem" -serial 0x0102 -reqout "$seeds/FuzzOCSPRequest/nonce.der"
ssl ocsp -issuer "$s/ca.pem" -serial 0x03 -no_nonce -reqout "$seeds/FuzzOCSPRequest/plain.der"
base64 -w0 "$seeds/FuzzOCSPRequest/plain.der" > "$seeds/FuzzOCSPRequest/get.txt"
ssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$s/p256.key" -subj "/CN=device 1/O=Factory" -addext "subjectAltName=DNS:device-1.example" -outform DER -out "$seeds/FuzzCSR/p256.der"
ssl req -new -newkey rsa:2048 -nodes -keyout "$s/rsa.key" -subj "/CN=rsa" -outform DER -out "$seeds/FuzzCSR/rsa2048.der"
ssl req -new -newkey rsa:1024 -nodes -keyout "$s/weak.key" -subj "/CN=weak" -outform DER -out "$seeds/FuzzCSR/rsa1024.der"
ssl req -new -newkey ed25519 -nodes -keyout "$s/ed.key" -subj "/CN=ed" -outform DER -out "$seeds/FuzzCSR/ed25519.der"
cp "$s/ca.pem" "$s/ca.der" "$seeds/FuzzCertificateImport/"
ssl crl2pkcs7 -nocrl -certfile "$s/ca.pem" -outform DER -out "$seeds/FuzzCertificateImport/bundle.p7b"
ssl pkcs12 -export -inkey "$s/ca.key" -in "$s/ca.pem" -passout pass:fuzz -out "$seeds/FuzzCertificateImport/ca.p12"
cp "$seeds/FuzzCertificateImport/bundle.p7b" "$seeds/FuzzTimestampReply/"
cat "$s/ca.pem" > "$seeds/FuzzPEM/certificate.pem"
openssl req -new -key "$s/p256.key" -subj "/CN=pem" 2>/dev/null | cat - "$s/ca.pem" > "$seeds/FuzzPEM/two.pem"
printf '%s' '{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n","category":"device","validityDays":365,"metadata":{"line":"3","station":"7"}}' > "$seeds/FuzzFlatJSON/issue.json"
printf '%s' '{"digest":"n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=","reference":"build \u00e9\t17","saltLength":-32,"x":null}' > "$seeds/FuzzFlatJSON/sign.json"
printf '%s' 'CN=Line 3 Root,O=Acme\, Inc.,C=DE' > "$seeds/FuzzDistinguishedName/plain.txt"
printf '%s' 'CN=caf\C3\A9 \+ \#1+OU=a\;b,DC=example,SERIALNUMBER=42,E=ops@example.com,2.5.4.97=x\ ' > "$seeds/FuzzDistinguishedName/escapes.txt"
h="$seeds/FuzzHTTPHead"
printf 'GET /v1/health HTTP/1.1\r\nHost: custos\r\n\r\n' > "$h/get.http"
printf 'POST /v1/keys HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n' > "$h/chunked.http"
printf 'GET /ocsp/MEIwQDA%%2BMDwwOjAJBgUrDgMCGgUABBQ HTTP/1.1\r\nHost: x\r\nIf-None-Match: "a"\r\n\r\nGET /v1/ready HTTP/1.1\r\nConnection: close\r\n\r\n' > "$h/pipelined.http"
printf 'POST /v1/vault HTTP/1.0\r\nContent-Length: 4\r\nAuthorization: Bearer cst_x\r\n\r\n{}\r\n' > "$h/length.http"
e="$seeds/FuzzESTRequest"
base64 -w0 "$seeds/FuzzCSR/p256.der" > "$e/p256.b64"
base64 -w 64 "$seeds/FuzzCSR/rsa2048.der" > "$e/rsa-lines.b64"
cp "$seeds/FuzzCSR/ed25519.der" "$e/ed25519.der"
ssl req -new -key "$s/p256.key" -subj '/CN=a,b\+c="d" #x;<y>/serialNumber=42' -outform DER -out "$e/escapes.der"
printf '%s' "Basic $(printf 'device-7:abcdef-ghijkl-mnopqr-stuvwx' | base64 -w0)" > "$e/basic.txt"
# SCEP: what strongSwan's pki sends (caught by a stand-in server that answers GetCACaps and keeps the
# PKIOperation body), and CMS from openssl.
c="$seeds/FuzzSCEPMessage"
ssl req -x509 -newkey rsa:2048 -nodes -keyout "$s/ra.key" -subj "/CN=RA" -days 2 -outform DER -out "$s/ra.der"
ssl x509 -inform DER -in "$s/ra.der" -out "$s/ra.pem"
if command -v pki >/dev/null; then
    pki --gen --type rsa --size 2048 > "$s/client.key" 2>/dev/null
    python3 - "$c" <<'PY' &
import http.server, sys
class Catch(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_GET(self):
        body = b"AES\nPOSTPKIOperation\nSCEPStandard\nSHA-256\nSHA-384\n"
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        data = self.rfile.read(int(self.headers["Content-Length"]))
        open(sys.argv[1] + "/pkcsreq.der", "wb").write(data)
        self.send_response(500); self.send_header("Content-Length", "0"); self.end_headers()
        raise SystemExit
server = http.server.HTTPServer(("127.0.0.1", 18_473), Catch)
server.timeout = 20
while True: server.handle_request()
PY
    catcher=$!
    sleep 1
    pki --scep --url http://127.0.0.1:18473/scep --in "$s/client.key" --dn "CN=router-1, O=Fuzz" \
        --password abcdef-ghijkl-mnopqr-stuvwx --cacert-enc "$s/ra.der" --cacert-sig "$s/ra.der" >/dev/null 2>&1 || true
    kill "$catcher" 2>/dev/null || true
fi
# ACME: request bodies signed by certbot's own library (Debian python3-acme), by account key and by kid.
if /usr/bin/python3 -c "import acme, josepy" 2>/dev/null; then
    /usr/bin/python3 - "$seeds/FuzzACMEJWS" <<'PY'
import json, sys
import josepy as jose
from acme import jws
from cryptography.hazmat.primitives.asymmetric import ec, rsa
for name, alg, key in [("es256", jose.ES256, jose.JWKEC(key=ec.generate_private_key(ec.SECP256R1()))),
                       ("rs256", jose.RS256, jose.JWKRSA(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)))]:
    body = jws.JWS.sign(b'{"termsOfServiceAgreed":true}', key=key, alg=alg, nonce=b"n", url="https://a/new-account")
    open(f"{sys.argv[1]}/{name}-jwk.json", "w").write(json.dumps(body.to_partial_json()))
    body = jws.JWS.sign(b"", key=key, alg=alg, nonce=b"n", url="https://a/order/1", kid="https://a/account/1")
    open(f"{sys.argv[1]}/{name}-kid.json", "w").write(json.dumps(body.to_partial_json()))
PY
fi
# DNS: answers dnspython writes (compressed names, a CNAME chain, TXT strings, NXDOMAIN).
if /usr/bin/python3 -c "import dns.message" 2>/dev/null; then
    /usr/bin/python3 - "$seeds/FuzzDNSMessage" <<'PY'
import sys, dns.message, dns.rrset, dns.rcode
r = dns.message.make_response(dns.message.make_query("_acme-challenge.www.example.com", "TXT"))
r.answer.append(dns.rrset.from_text("_acme-challenge.www.example.com.", 60, "IN", "CNAME", "txt.example.net."))
r.answer.append(dns.rrset.from_text("txt.example.net.", 60, "IN", "TXT", '"abc" "def"', '"xyz"'))
open(f"{sys.argv[1]}/txt.bin", "wb").write(r.to_wire())
r = dns.message.make_response(dns.message.make_query("www.example.com", "A"))
r.answer.append(dns.rrset.from_text("www.example.com.", 60, "IN", "A", "192.0.2.1", "192.0.2.2"))
open(f"{sys.argv[1]}/a.bin", "wb").write(r.to_wire())
r = dns.message.make_response(dns.message.make_query("gone.example", "AAAA"))
r.set_rcode(dns.rcode.NXDOMAIN)
open(f"{sys.argv[1]}/nxdomain.bin", "wb").write(r.to_wire())
PY
fi
# CMP: what OpenSSL's client sends and its mock server answers (MAC and signature protection; ir,
# certConf, p10cr, kur, rr, genm and their answers).
m="$seeds/FuzzCMPMessage"
ssl req -new -key "$s/ra.key" -subj "/CN=cmp device" -out "$s/cmp.csr"
mock=(cmp -use_mock_srv -rsp_cert "$s/ra.pem" -recipient "/CN=Mock CA" -certout "$s/cmp-out.pem")
(cd "$m" && ssl "${mock[@]}" -srv_ref s -srv_secret pass:fuzz-secret -ref r -secret pass:fuzz-secret -cmd ir \
    -newkey "$s/ra.key" -subject "/CN=cmp device" -sans device.example -reqout ir.der,certconf.der -rspout ip.der,pkiconf.der \
    && ssl "${mock[@]}" -srv_ref s -srv_secret pass:fuzz-secret -ref r -secret pass:fuzz-secret -cmd p10cr \
    -csr "$s/cmp.csr" -reqout p10cr.der -rspout cp.der -implicit_confirm \
    && ssl "${mock[@]}" -srv_ref s -srv_secret pass:fuzz-secret -ref r -secret pass:fuzz-secret -cmd genm \
    -infotype caCerts -reqout genm.der -rspout genp.der \
    && ssl "${mock[@]}" -srv_cert "$s/ra.pem" -srv_key "$s/ra.key" -srv_trusted "$s/ra.pem" -cert "$s/ra.pem" \
    -key "$s/ra.key" -srvcert "$s/ra.pem" -cmd rr -oldcert "$s/ra.pem" -revreason 4 -reqout rr.der -rspout rp.der) \
    >/dev/null 2>&1 || echo "fuzz: OpenSSL's CMP mock server made fewer seeds" >&2
printf 'seed content' > "$s/content.bin"
ssl cms -encrypt -binary -aes128 -in "$s/content.bin" -outform DER -out "$c/enveloped.der" "$s/ra.pem"
ssl cms -sign -nodetach -binary -in "$c/enveloped.der" -signer "$s/ra.pem" -inkey "$s/ra.key" -outform DER -out "$c/signed.der"
ssl crl2pkcs7 -nocrl -certfile "$s/ra.pem" -outform DER -out "$c/certs-only.der"
rm -rf "$s"
# Inputs that once failed (Fuzz/Regressions/<target>/) stay in every run's seeds.
for regressions in "$root"/Fuzz/Regressions/*/; do
    cp "$regressions"* "$seeds/$(basename "$regressions")/"
done

failed=0
for seedDirectory in "$seeds"/*/; do
    target="$(basename "$seedDirectory")"
    corpus="$work/corpus/$target"
    mkdir -p "$corpus"
    cp -n "$seedDirectory"* "$corpus/" 2>/dev/null || true
    if "$bin/$target" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/crashes/$target-" -print_final_stats=1 "$corpus" >"$work/$target.log" 2>&1; then
        runs="$(grep -m1 'stat::number_of_executed_units' "$work/$target.log" | awk '{print $2}')"
        echo "fuzz $target: ${runs:-?} inputs in ${seconds} s, no crash (corpus $(ls "$corpus" | wc -l))"
    else
        echo "fuzz $target: FAILED, see $work/$target.log and $work/crashes/" >&2
        tail -n 30 "$work/$target.log" >&2
        failed=1
    fi
done
exit "$failed"
