"""A CMP client for what OpenSSL 3.0 cannot send (RFC 9483 section 4.3): a genm asking for CRLs
(crlStatusList), a root CA update (rootCaCert) and the request template, protected with PBMAC1 (RFC 9481
section 6.1.3; its parameters written and read with pyasn1-modules' RFC 8018 types). The message is
written with a small DER writer of its own, the answer's MAC checked with hashlib. Prints JSON."""
import base64, hashlib, hmac, json, os, sys, time, urllib.request
from pyasn1.codec.der import decoder, encoder
from pyasn1.type import univ
from pyasn1_modules import rfc8018

url, kid, secret, ca_pem = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4]
items = [item for item in sys.argv[5].split(",") if item]
mode = sys.argv[6] if len(sys.argv) > 6 else ""


def tlv(tag, content):
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    octets = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def elements(data):
    """The TLV elements of `data` as (tag, content, whole) tuples."""
    out, i = [], 0
    while i < len(data):
        tag, n, j = data[i], data[i + 1], i + 2
        if n & 0x80:
            count = n & 0x7F
            n, j = int.from_bytes(data[j:j + count], "big"), j + count
        out.append((tag, data[j:j + n], data[i:j + n]))
        i = j + n
    return out


def oid(text):
    return encoder.encode(univ.ObjectIdentifier(text))


ca_der = base64.b64decode("".join(l for l in open(ca_pem).read().splitlines() if "-----" not in l))
tbs = elements(elements(ca_der)[0][1])[0][1]
fields = elements(tbs)
ca_subject = fields[5][2] if fields[0][0] == 0xA0 else fields[4][2]


def pbmac1(salt, iterations):
    kdf = rfc8018.PBKDF2_params()
    kdf["salt"]["specified"] = salt
    kdf["iterationCount"] = iterations
    kdf["keyLength"] = 32
    kdf["prf"]["algorithm"] = rfc8018.id_hmacWithSHA256
    kdf["prf"]["parameters"] = univ.Null("")
    params = rfc8018.PBMAC1_params()
    params["keyDerivationFunc"]["algorithm"] = rfc8018.id_PBKDF2
    params["keyDerivationFunc"]["parameters"] = kdf
    params["messageAuthScheme"]["algorithm"] = rfc8018.id_hmacWithSHA256
    params["messageAuthScheme"]["parameters"] = univ.Null("")
    return tlv(0x30, oid("1.2.840.113549.1.5.14") + encoder.encode(params))


def mac(salt, iterations, data):
    return hmac.new(hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, 32), data, hashlib.sha256).digest()


salt, iterations = os.urandom(16), 10000
name = tlv(0xA4, ca_subject)  # GeneralName directoryName: the MAC says who sent it
header = tlv(0x30, b"".join([
    tlv(0x02, b"\x02"), name, name,
    tlv(0xA0, tlv(0x18, time.strftime("%Y%m%d%H%M%SZ", time.gmtime()).encode())),
    tlv(0xA1, pbmac1(salt, iterations)),
    tlv(0xA2, tlv(0x04, kid.encode())),
    tlv(0xA4, tlv(0x04, os.urandom(16))),
    tlv(0xA5, tlv(0x04, os.urandom(16))),
]))
itavs = []
for item in items:
    if item == "crlStatusList":
        # CRLStatus ::= SEQUENCE { source CRLSource, thisUpdate Time OPTIONAL }; source issuer [1] GeneralNames
        status = tlv(0x30, tlv(0xA1, name) + (tlv(0x18, b"20991231000000Z") if mode == "current" else b""))
        itavs.append(tlv(0x30, oid("1.3.6.1.5.5.7.4.22") + tlv(0x30, status)))
    elif item == "rootCaCert":
        itavs.append(tlv(0x30, oid("1.3.6.1.5.5.7.4.20") + ca_der))
    elif item == "certReqTemplate":
        itavs.append(tlv(0x30, oid("1.3.6.1.5.5.7.4.19")))
    else:
        itavs.append(tlv(0x30, oid(item)))
body = tlv(0xB5, tlv(0x30, b"".join(itavs)))  # genm [21]
code = mac(salt, iterations, tlv(0x30, header + body))
if mode == "tamper":
    code = bytes([code[0] ^ 1]) + code[1:]
message = tlv(0x30, header + body + tlv(0xA0, tlv(0x03, b"\x00" + code)))

request = urllib.request.Request(url, data=message, headers={"Content-Type": "application/pkixcmp"})
answer = urllib.request.urlopen(request, timeout=30).read()
reply = elements(elements(answer)[0][1])
reply_header, reply_body = reply[0], reply[1]
result = {"body": reply_body[0] - 0xA0}
protection_alg = [f for f in elements(reply_header[1]) if f[0] == 0xA1]
if protection_alg:
    algorithm = elements(elements(protection_alg[0][1])[0][1])
    result["protection"] = str(decoder.decode(algorithm[0][2])[0])
    if algorithm[0][2] == oid("1.2.840.113549.1.5.14"):
        params, _ = decoder.decode(algorithm[1][2], asn1Spec=rfc8018.PBMAC1_params())
        kdf, _ = decoder.decode(params["keyDerivationFunc"]["parameters"], asn1Spec=rfc8018.PBKDF2_params())
        expected = mac(bytes(kdf["salt"]["specified"]), int(kdf["iterationCount"]), tlv(0x30, reply_header[2] + reply_body[2]))
        protection = [f for f in reply[2:] if f[0] == 0xA0][0]
        result["macVerified"] = elements(protection[1])[0][1][1:] == expected
content = elements(reply_body[1])[0]
if result["body"] == 23:  # error: PKIStatusInfo's failInfo bits
    status = elements(elements(content[1])[0][1])
    bits = [f for f in status if f[0] == 0x03]
    result["failInfo"] = [] if not bits else [
        i for i in range(8 * (len(bits[0][1]) - 1)) if bits[0][1][1 + i // 8] & (0x80 >> (i % 8))
    ]
else:
    result["items"] = []
    for itav in elements(content[1]):
        parts = elements(itav[1])
        entry = {"type": str(decoder.decode(parts[0][2])[0])}
        if len(parts) > 1:
            entry["value"] = base64.b64encode(parts[1][2]).decode()
        result["items"].append(entry)
print(json.dumps(result))
