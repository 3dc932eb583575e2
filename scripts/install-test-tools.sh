#!/usr/bin/env bash
# Installs the third-party checkers the test suite runs (from PyPI), and nothing when present.
set -euo pipefail

# pkilint: RFC 5280 and CA/Browser Forum linting of issued certificates and CRLs.
python3 -c "import pkilint" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check "pkilint==0.13.3"

# pyhanko-certvalidator: a strict relying party that fetches CRLs and delta CRLs from certificates.
python3 -c "import pyhanko_certvalidator" 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check "pyhanko-certvalidator==0.33.0"

# Debian packages of real clients the tests run against the server: strongSwan's `pki` (EST, SCEP) with
# its curl fetcher plugin and the standard plugins (openssl: without it `pki --scep` cannot parse or
# encrypt), certbot's ACME library (python3-acme: JWS as certbot signs them), the ACME clients certbot and
# lego, pebble (pebble-challtestsrv answers challenges and serves test DNS; pebble is the benchmark's
# peer), dnspython (the DNS codec's comparison tests), and pyasn1-modules (CMP messages OpenSSL 3.0 cannot
# send: crlStatusList, rootCaCert, PBMAC1), PostgreSQL 15 (the cluster store: tests start throwaway
# servers with initdb and pg_ctl, never the system's) with HAProxy in front of two nodes, and headless
# Chromium driven by Selenium (the web console's browser tests), rsyslog (syslog over UDP, TCP and TLS) and
# aiosmtpd (the mail relay of the notification tests: STARTTLS, implicit TLS, AUTH), snmpd with the snmp
# tools and snmptrapd (the AgentX subagent and its traps).
packages=(strongswan-pki libstrongswan-extra-plugins libstrongswan-standard-plugins python3-acme certbot lego
    pebble python3-dnspython haproxy python3-pyasn1-modules postgresql-15 chromium chromium-driver
    python3-selenium rsyslog rsyslog-gnutls python3-aiosmtpd snmpd snmp
    snmptrapd)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "Installing missing test clients: ${missing[*]}"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
