#!/usr/bin/env python3
"""Checks the layout rules of docs/architecture.md; `make lint` (and so `make test`) runs it.

1. No module imports one above it: each target of Sources/ has a layer, and may import only targets of
   lower layers (C shims included).
2. Nothing outside MetadataStore builds store keys or names an index: no `Key()`, `Key(bytes:` or
   `index: "` in other modules.
3. No source file over 400 lines without a reason: such a file's first line is `// Over 400 lines: …`.
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent

# Lower numbers are lower layers. Targets on one layer may not import each other.
LAYERS = {
    "CPKCS11": 0, "CLMDB": 0, "CPKCS12": 0, "CFaultPKCS11": 0, "Codecs": 0, "WorkerThreads": 0, "APIModels": 0, "Console": 0, "Syslog": 0, "Mail": 0, "AgentX": 0,
    "PKCS11": 1, "MetadataStore": 1, "CustosX509": 1,
    "HSM": 2, "SCEP": 2, "CMP": 2, "ACME": 2, "CustosTestSupport": 4,
    "Signing": 3, "Access": 3, "Vault": 3, "ACMEValidation": 3, "HSMTLS": 4,
    "CA": 4,
    "OCSP": 5, "Ceremony": 5, "Enrollment": 5, "Upstream": 5, "Notifications": 5,
    "Server": 6,
    "custos": 7,
}
IMPORT = re.compile(r"^\s*(?:@testable |@_spi\(\w+\) )?(?:public |internal |package )?import (\w+)", re.M)
problems = []

for target in sorted((root / "Sources").iterdir()):
    if not target.is_dir():
        continue
    name = target.name
    if name not in LAYERS:
        problems.append(f"Sources/{name}: not in the layer map of scripts/check-layout.py")
        continue
    for path in sorted(target.rglob("*.swift")):
        text = path.read_text(encoding="utf-8")
        relative = path.relative_to(root)
        for imported in IMPORT.findall(text):
            if imported in LAYERS and imported != name and LAYERS[imported] >= LAYERS[name]:
                problems.append(f"{relative}: {name} (layer {LAYERS[name]}) imports {imported} (layer {LAYERS[imported]})")
        if name != "MetadataStore":
            for number, line in enumerate(text.splitlines(), 1):
                code = line.split("//")[0]
                if re.search(r"\bKey\(\)|\bKey\(bytes:|\bindex: \"", code):
                    problems.append(f"{relative}:{number}: builds a store key or names an index outside MetadataStore")

for folder in ("Sources", "Tests", "Bench/Sources"):
    for path in sorted((root / folder).rglob("*.swift")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > 400 and not lines[0].startswith("// Over 400 lines: "):
            problems.append(f"{path.relative_to(root)}: {len(lines)} lines and no '// Over 400 lines: <reason>' first line")

for problem in problems:
    print(f"error: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print("layout: layers, store keys and file sizes as docs/architecture.md says")
