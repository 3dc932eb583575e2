#!/usr/bin/env bash
# Installs the third-party checkers the test suite runs (from PyPI), and nothing when present.
set -euo pipefail

# pkilint: RFC 5280 and CA/Browser Forum linting of issued certificates and CRLs.
python3 -c "import pkilint" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check "pkilint==0.13.3"

# pyhanko-certvalidator: a strict relying party that fetches CRLs and delta CRLs from certificates.
python3 -c "import pyhanko_certvalidator" 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check "pyhanko-certvalidator==0.33.0"
