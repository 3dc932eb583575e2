#!/usr/bin/python3
"""Drives the web console in headless Chromium (Selenium) against a running `custos serve`.

Environment: CUSTOS_URL (http://127.0.0.1:PORT), CUSTOS_ADMIN, CUSTOS_SIGNER, CUSTOS_AUDITOR (bearer tokens),
CUSTOS_IDLE (the console's idle timeout in seconds), SCREENSHOTS (a directory, optional).
Prints one line per check; exits non-zero on the first failure.
"""
import http.cookiejar
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = os.environ["CUSTOS_URL"]
ADMIN = os.environ["CUSTOS_ADMIN"]
SIGNER = os.environ["CUSTOS_SIGNER"]
AUDITOR = os.environ["CUSTOS_AUDITOR"]
IDLE = int(os.environ["CUSTOS_IDLE"])
SHOTS = os.environ.get("SCREENSHOTS")
XSS = '<script>window.__xss=1</script>"\'&'


def check(condition, what):
    if not condition:
        print(f"FAIL {what}", flush=True)
        sys.exit(1)
    print(f"ok {what}", flush=True)


def api(method, path, body=None, token=ADMIN):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def issue(ca, common_name, metadata, validity_days=None):
    body = {"csr": csr_pem(common_name), "category": "device", "metadata": metadata}
    if validity_days:
        body["validityDays"] = validity_days
    status, answer = api("POST", f"/v1/cas/{ca}/certificates", body)
    check(status == 201, f"API issues {common_name!r} ({status})")
    return answer["serial"]


def csr_pem(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def cmp_client(workdir, secret, name):
    """`openssl cmp` asking profile `guarded` for a certificate; it polls while an officer decides."""
    key = os.path.join(workdir, f"{name}.key")
    subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key], check=True)
    return subprocess.Popen(
        ["openssl", "cmp", "-server", BASE + "/.well-known/cmp/p/guarded", "-recipient", "/CN=Line CA/O=Acme/C=DE",
         "-msg_timeout", "30", "-total_timeout", "120", "-cmd", "ir", "-ref", secret["id"],
         "-secret", "pass:" + secret["secret"], "-newkey", key, "-subject", f"/CN={name}",
         "-certout", os.path.join(workdir, f"{name}.pem")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def pending_requests(count):
    for _ in range(150):
        status, page = api("GET", "/v1/enrollment/requests?state=pending")
        if status == 200 and len(page["requests"]) >= count:
            return page["requests"]
        time.sleep(0.2)
    check(False, f"{count} requests are held for approval")


def session_post(driver, path, fields):
    """POSTs a form with the browser's session cookie but without what the page would add (a forged form)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(BASE + path, data=urllib.parse.urlencode(fields).encode(), method="POST")
    request.add_header("Cookie", cookie)
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def session_get(driver, path):
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(BASE + path)
    request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, answer.headers, answer.read()


def click(driver, element):
    """Clicks something that loads a new page, and waits until it has."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:  # stale; chromedriver sometimes says so as "does not belong to the document"
            return True

    WebDriverWait(driver, 30).until(replaced)


def sign_in(driver, token):
    driver.get(BASE + "/ui/signin")
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(token)
    click(driver, driver.find_element(By.ID, "sign-in"))


def sign_out(driver):
    click(driver, driver.find_element(By.ID, "sign-out"))


def shot(driver, name):
    if SHOTS:
        driver.save_screenshot(os.path.join(SHOTS, f"console-{name}.png"))


def portal(driver):
    """The self-service portal: a person with a one-time password gets a certificate for a key made in
    the browser, downloads it, and cannot use the password twice."""
    status, _ = api("POST", "/v1/enrollment/profiles", {"id": "self-service", "ca": "line-ca", "category": "device",
                                                        "protocols": ["portal"], "description": "Line 7 staff"})
    check(status == 201, "API creates a profile that offers the portal")
    status, secret = api("POST", "/v1/enrollment/profiles/self-service/one-time-passwords", {"label": "technician"})
    check(status == 201, "API makes a one-time password for a technician")
    driver.get(BASE + "/portal/")
    check(driver.current_url.endswith("/portal/signin"), "the portal asks for a sign-in")
    driver.find_element(By.ID, "profile").send_keys("self-service")
    driver.find_element(By.ID, "password").send_keys("not-the-password")
    click(driver, driver.find_element(By.ID, "sign-in"))
    check("do not match" in driver.find_element(By.ID, "signin-error").text, "a wrong password is refused")
    driver.find_element(By.ID, "password").send_keys(secret["secret"])
    click(driver, driver.find_element(By.ID, "sign-in"))
    check(driver.current_url.endswith("/portal/"), f"the technician is signed in ({driver.current_url})")
    check("Line 7 staff" in driver.find_element(By.TAG_NAME, "main").text, "the portal shows the profile")

    # A key made in the browser (WebCrypto), the request built and signed in the page.
    driver.find_element(By.ID, "common-name").send_keys("portal-person")
    driver.find_element(By.ID, "browser-key").click()
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "csr").get_attribute("value").startswith("-----BEGIN CERTIFICATE REQUEST"))
    csr_text = driver.find_element(By.ID, "csr").get_attribute("value")
    check(driver.find_element(By.ID, "key-download").is_displayed()
          and driver.find_element(By.ID, "key-download").get_attribute("href").startswith("blob:"),
          "the private key is offered for saving from the page itself")
    csr = x509.load_pem_x509_csr(csr_text.encode())
    check(csr.is_signature_valid and csr.subject.rfc4514_string() == "CN=portal-person",
          "the browser's request is a valid PKCS#10 for the name")
    shot(driver, "portal")
    click(driver, driver.find_element(By.ID, "request-button"))
    check("issued" in driver.find_element(By.ID, "notice").text, "the certificate is issued at once")
    href = driver.find_element(By.ID, "issued-download").get_attribute("href")
    status, _, body = session_get(driver, urllib.parse.urlparse(href).path)
    issued = x509.load_pem_x509_certificate(body)
    own_key = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    check(status == 200 and issued.public_key().public_bytes(*own_key) == csr.public_key().public_bytes(*own_key),
          "the downloaded certificate certifies the browser's key")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#my-certificates tbody tr")) == 1, "the portal lists the certificate")
    status, found = api("GET", "/v1/certificates?metadata.enrollment.protocol=portal")
    check(status == 200 and len(found["certificates"]) == 1, "the API finds it as a portal certificate")

    # The one-time password is spent; a forged form is refused.
    driver.find_element(By.ID, "csr").send_keys(csr_text)
    click(driver, driver.find_element(By.ID, "request-button"))
    check("has been used" in driver.find_element(By.ID, "request-error").text, "a spent one-time password gets nothing more")
    status, body = session_post(driver, "/portal/request", {"csr": csr_text})
    check(status == 403 and "CSRF" in body, f"a portal form without the CSRF token is refused ({status})")

    # Renewal of one's own certificate with a new browser key: the same name only, and it names the old one.
    first = format(issued.serial_number, "x")
    click(driver, driver.find_element(By.CSS_SELECTOR, "#my-certificates a.renew"))
    check(first in driver.find_element(By.ID, "renewing").text.lower(), "the form says which certificate it renews")
    field = driver.find_element(By.ID, "common-name")
    check(field.get_attribute("value") == "portal-person", "the renewal keeps the certificate's name")
    field.clear()
    field.send_keys("someone-else")
    driver.find_element(By.ID, "browser-key").click()
    WebDriverWait(driver, 30).until(lambda d: "someone" in x509.load_pem_x509_csr(
        d.find_element(By.ID, "csr").get_attribute("value").encode()).subject.rfc4514_string()
        if d.find_element(By.ID, "csr").get_attribute("value").startswith("-----BEGIN") else False)
    click(driver, driver.find_element(By.ID, "request-button"))
    check("renewalSameSubject" in driver.find_element(By.ID, "request-error").text, "a renewal for another name is refused")
    field = driver.find_element(By.ID, "common-name")
    field.clear()
    field.send_keys("portal-person")
    driver.execute_script("arguments[0].value = ''", driver.find_element(By.ID, "csr"))
    driver.find_element(By.ID, "browser-key").click()
    WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "csr").get_attribute("value").startswith("-----BEGIN"))
    click(driver, driver.find_element(By.ID, "request-button"))
    check("issued" in driver.find_element(By.ID, "notice").text, "the renewal is issued with the spent one-time password")
    renewal = driver.find_element(By.ID, "issued-download").get_attribute("href").rsplit("/", 1)[1]
    status, renewed = api("GET", f"/v1/cas/line-ca/certificates/{renewal}")
    check(renewed["metadata"].get("renewed-from") == first, f"the renewal names the certificate it renews ({renewed['metadata']})")

    # Revoking one's own certificate, for a holder's reason only; another's is not found.
    row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "#my-certificates tbody tr") if first in r.text.lower())
    reasons = [o.get_attribute("value") for o in row.find_elements(By.CSS_SELECTOR, "select option")]
    check("caCompromise" not in reasons and "superseded" in reasons, f"a holder is offered a holder's reasons ({reasons})")
    Select(row.find_element(By.TAG_NAME, "select")).select_by_value("superseded")
    click(driver, row.find_element(By.CSS_SELECTOR, "button.danger"))
    check("revoked" in driver.find_element(By.ID, "notice").text, "the portal confirms the revocation")
    check(api("GET", f"/v1/cas/line-ca/certificates/{first}")[1]["status"] == "revoked", "the API shows it revoked")
    csrf = driver.find_element(By.CSS_SELECTOR, "form.signout input[name=csrf]").get_attribute("value")
    other = api("GET", "/v1/certificates?ca=line-ca&q=sensor-2")[1]["certificates"][0]["serial"]
    status, _ = session_post(driver, f"/portal/certificates/{other}/revoke", {"csrf": csrf, "reason": "superseded"})
    check(status == 404 and api("GET", f"/v1/cas/line-ca/certificates/{other}")[1]["status"] == "valid",
          f"another's certificate is not found and stays valid ({status})")
    click(driver, driver.find_element(By.ID, "sign-out"))
    check(driver.current_url.endswith("/portal/signin?out=1"), "the technician signs out")


def main():
    # Data through the API: a root CA, a sub-CA, and certificates, one with markup in its subject and metadata.
    status, _ = api("POST", "/v1/cas", {"id": "plant-root", "subject": "CN=Plant Root CA,O=Acme,C=DE", "algorithm": "ec-p256"})
    check(status == 201, "API creates a root CA")
    status, _ = api("POST", "/v1/cas", {"id": "line-ca", "subject": "CN=Line CA,O=Acme,C=DE", "algorithm": "ec-p256",
                                        "parent": "plant-root"})
    check(status == 201, "API creates a sub-CA")
    hostile = issue("line-ca", "device " + XSS, {"batch": XSS, "line": "7"})
    victim = issue("line-ca", "device two", {"batch": "2026-48", "line": "7"})
    for n in range(3):
        issue("line-ca", f"sensor-{n}", {"line": "8"})
    for n, days in enumerate([5, 20, 60]):
        issue("line-ca", f"probe-{n}", {"line": "9"}, validity_days=days)

    options = webdriver.ChromeOptions()
    # The profile and caches in memory: the rest of the suite runs meanwhile and waits on the same disk.
    profile = tempfile.mkdtemp(prefix="custos-chromium-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    for argument in ["--headless=new", "--no-sandbox", "--window-size=1280,1000", "--disable-gpu",
                     f"--user-data-dir={profile}", "--disk-cache-size=1048576", "--disable-extensions",
                     "--disable-background-networking", "--no-first-run"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(60)
    try:
        # Without a session every page leads to the sign-in form.
        driver.get(BASE + "/ui/certificates")
        check(driver.current_url.endswith("/ui/signin"), "an anonymous visit is sent to sign in")
        check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "English by Accept-Language")
        shot(driver, "signin")
        sign_in(driver, "cst_" + "A" * 43)
        check("unknown or revoked" in driver.find_element(By.ID, "token-error").text, "a wrong token is refused next to the field")

        # The administrator's dashboard.
        sign_in(driver, ADMIN)
        check(driver.current_url.endswith("/ui/"), f"the administrator lands on the dashboard ({driver.current_url})")
        counts = driver.find_element(By.ID, "counts").text
        check("line-ca device valid 8" in counts, "the dashboard counts line-ca's 8 devices")
        expiring = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "#expiring tr")]
        check(expiring == ["within 7 days 1", "within 30 days 2", "within 90 days 3"], f"expiring within 7/30/90 days ({expiring})")
        bars = [int(bar.get_attribute("width")) for bar in driver.find_elements(By.CSS_SELECTOR, "svg.chart rect")]
        check(bars[0] < bars[1] < bars[2], f"the chart's bars grow with the horizon ({bars})")
        check("console.signin" in driver.find_element(By.ID, "audit").text, "recent audit events show the sign-in")
        check(len(driver.find_elements(By.CSS_SELECTOR, "#crls tbody tr")) == 2, "both CAs have a CRL row")
        shot(driver, "dashboard")

        # Creating a CA: a bad name is refused next to its field and creates nothing; a good one is made.
        driver.get(BASE + "/ui/cas")
        driver.find_element(By.ID, "id").send_keys("Bad Name!")
        driver.find_element(By.ID, "subject").send_keys("CN=Bad")
        click(driver, driver.find_element(By.ID, "create-button"))
        check("a-z 0-9" in driver.find_element(By.ID, "id-error").text, "a bad CA name is refused next to its field")
        check(driver.find_element(By.ID, "subject").get_attribute("value") == "CN=Bad", "what was entered stays in the form")
        check(api("GET", "/v1/cas/Bad%20Name!")[0] == 404, "the refused CA was not created")
        field = driver.find_element(By.ID, "id")
        field.clear()
        field.send_keys("field-ca")
        subject = driver.find_element(By.ID, "subject")
        subject.clear()
        subject.send_keys("CN=Field CA,O=Acme,C=DE")
        Select(driver.find_element(By.ID, "parent")).select_by_value("plant-root")
        driver.find_element(By.ID, "validityDays").send_keys("1825")
        click(driver, driver.find_element(By.ID, "create-button"))
        check(driver.current_url.endswith("/ui/cas/field-ca?created=1"), f"the new CA's page opens ({driver.current_url})")
        check("HSM" in driver.find_element(By.ID, "notice").text, "the console confirms the CA")
        status, created = api("GET", "/v1/cas/field-ca")
        check(status == 200 and created.get("parent") == "plant-root", "the API shows the CA the form created")

        # The CA tree and a CA's downloads.
        click(driver, driver.find_element(By.LINK_TEXT, "Certificate authorities"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#cas tbody tr")
        names = [r.find_element(By.TAG_NAME, "a").text for r in rows]
        check(names == ["plant-root", "field-ca", "line-ca"], f"the CA tree lists the root, then its sub-CAs ({names})")
        check("depth-1" in rows[1].find_element(By.TAG_NAME, "td").get_attribute("class"), "the sub-CA is indented under its root")
        click(driver, driver.find_element(By.LINK_TEXT, "line-ca"))
        check("CN=Line CA" in driver.find_element(By.ID, "ca-details").text, "the CA page shows its subject")
        status, headers, body = session_get(driver, "/ui/cas/line-ca/chain.pem")
        chain = [x509.load_pem_x509_certificate(b"-----BEGIN" + block) for block in body.split(b"-----BEGIN")[1:]]
        check(status == 200 and len(chain) == 2 and "attachment" in headers["Content-Disposition"], "the chain downloads as two PEM certificates")
        status, _, body = session_get(driver, "/ui/cas/line-ca/crl.der")
        crl = x509.load_der_x509_crl(body)
        check(status == 200 and crl.issuer.rfc4514_string().startswith("CN=Line CA"), "the CRL downloads and parses")

        # Search with a metadata filter, then the hostile certificate's page: markup is shown, never run.
        driver.get(BASE + "/ui/certificates")
        Select(driver.find_element(By.ID, "ca")).select_by_value("line-ca")
        driver.find_element(By.ID, "metadata").send_keys("line=7")
        click(driver, driver.find_element(By.ID, "search-button"))
        results = driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")
        check(len(results) == 2, f"a metadata search finds the two line-7 certificates ({len(results)} at {driver.current_url})")
        shot(driver, "certificates")
        driver.get(BASE + f"/ui/cas/line-ca/certificates/{hostile}")
        check("<script>window.__xss" in driver.find_element(By.ID, "subject").text.replace("\\", ""), "markup in a subject is shown as text")
        check(XSS in driver.find_element(By.ID, "metadata").text, "markup in metadata is shown as text")
        check(driver.execute_script("return window.__xss === undefined"), "no stored markup ran as script")

        # A bad search shows the error next to the form.
        driver.get(BASE + "/ui/certificates?serial=xyz")
        check("not hex" in driver.find_element(By.ID, "search-error").text, "a bad serial is refused with a message")

        # Revocation through the form.
        driver.get(BASE + f"/ui/cas/line-ca/certificates/{victim}")
        Select(driver.find_element(By.ID, "reason")).select_by_value("keyCompromise")
        click(driver, driver.find_element(By.ID, "revoke-button"))
        check(driver.find_element(By.ID, "status").text == "revoked", "the certificate page shows it revoked")
        check("revoked" in driver.find_element(By.ID, "notice").text, "the revocation is confirmed")
        status, answer = api("GET", f"/v1/cas/line-ca/certificates/{victim}")
        check(answer["status"] == "revoked", "the API agrees it is revoked")
        shot(driver, "certificate")

        # Metadata set and removed from the certificate page; a bad key is refused next to the field.
        sensor = next(c for c in api("GET", "/v1/certificates?ca=line-ca&q=sensor-0")[1]["certificates"])["serial"]
        driver.get(BASE + f"/ui/cas/line-ca/certificates/{sensor}")
        driver.find_element(By.ID, "metadata-key").send_keys("owner")
        driver.find_element(By.ID, "metadata-value").send_keys("alice@acme.example")
        click(driver, driver.find_element(By.ID, "metadata-button"))
        check("saved" in driver.find_element(By.ID, "notice").text, "setting metadata is confirmed")
        check(api("GET", f"/v1/cas/line-ca/certificates/{sensor}")[1]["metadata"].get("owner") == "alice@acme.example",
              "the API shows the metadata set in the console")
        driver.find_element(By.ID, "metadata-key").send_keys("owner name")
        click(driver, driver.find_element(By.ID, "metadata-button"))
        check("A-Z a-z 0-9" in driver.find_element(By.ID, "metadata-error").text, "a bad metadata key is refused next to the field")
        field = driver.find_element(By.ID, "metadata-key")
        field.clear()
        field.send_keys("owner")
        click(driver, driver.find_element(By.ID, "metadata-button"))
        check("owner" not in api("GET", f"/v1/cas/line-ca/certificates/{sensor}")[1]["metadata"], "an empty value removes the key")

        # Renewal from the certificate page: a bad validity is refused, a good one issues the renewal.
        driver.find_element(By.ID, "renew-days").send_keys("many")
        click(driver, driver.find_element(By.ID, "renew-button"))
        check("whole number" in driver.find_element(By.ID, "renew-error").text, "a bad validity is refused next to the field")
        field = driver.find_element(By.ID, "renew-days")
        field.clear()
        field.send_keys("100")
        click(driver, driver.find_element(By.ID, "renew-button"))
        check(sensor.upper() in driver.find_element(By.ID, "notice").text.upper(), "the renewal's page names the certificate it renews")
        renewed = driver.current_url.split("/certificates/")[1].split("?")[0]
        status, answer = api("GET", f"/v1/cas/line-ca/certificates/{renewed}")
        check(status == 200 and renewed.upper() != sensor.upper() and "sensor-0" in answer["subject"],
              "the API has the renewal with the same subject")

        # Reports as CSV: a search's matches and the certificates expiring within 30 days.
        status, headers, body = session_get(driver, "/ui/certificates/report.csv?ca=line-ca&metadata=line%3D9")
        lines = body.decode().strip().splitlines()
        check(status == 200 and lines[0].startswith("ca,serial,subject") and len(lines) == 4, f"a search downloads as CSV ({lines})")
        status, headers, body = session_get(driver, "/ui/reports/expiring.csv?days=30")
        lines = body.decode().strip().splitlines()
        check(status == 200 and len(lines) == 3 and all("probe-" in line for line in lines[1:]),
              f"the certificates expiring within 30 days download as CSV ({lines})")

        # Bulk revocation: preview, a change meanwhile refuses the stale confirmation, then all are revoked.
        driver.get(BASE + "/ui/certificates/revoke?ca=line-ca")
        check("besides" in driver.find_element(By.ID, "bulk-error").text, "a bulk revocation of a whole CA is refused")
        driver.get(BASE + "/ui/certificates?ca=line-ca&metadata=line%3D9")
        click(driver, driver.find_element(By.ID, "bulk-revoke"))
        check(driver.find_element(By.ID, "bulk-count").text.startswith("3 valid"), "the preview counts the three matches")
        check(len(driver.find_elements(By.CSS_SELECTOR, "#bulk-sample tbody tr")) == 3, "the preview lists them")
        shot(driver, "bulk-revocation")
        issue("line-ca", "probe-late", {"line": "9"}, validity_days=60)
        Select(driver.find_element(By.ID, "reason")).select_by_value("cessationOfOperation")
        click(driver, driver.find_element(By.ID, "bulk-confirm-button"))
        check("not the 3 previewed" in driver.find_element(By.ID, "bulk-error").text, "a stale preview revokes nothing")
        check(api("GET", "/v1/certificates?ca=line-ca&metadata.line=9&status=revoked")[1]["certificates"] == [],
              "nothing was revoked by the stale confirmation")
        check(driver.find_element(By.ID, "bulk-count").text.startswith("4 valid"), "the preview shows the four that match now")
        click(driver, driver.find_element(By.ID, "bulk-confirm-button"))
        check(driver.find_element(By.ID, "notice").text.startswith("4 certificates"), "the bulk revocation is confirmed")
        status, page = api("GET", "/v1/certificates?ca=line-ca&metadata.line=9")
        check({c["status"] for c in page["certificates"]} == {"revoked"} and len(page["certificates"]) == 4,
              "the API shows all four revoked")

        # The approvals queue: two CMP clients wait; one request is approved, the other rejected with a reason.
        status, _ = api("POST", "/v1/enrollment/profiles", {"id": "guarded", "ca": "line-ca", "category": "device",
                                                            "protocols": ["cmp"], "approval": "manual",
                                                            "cmp": {"checkAfterSeconds": 1}})
        check(status == 201, "API creates a profile with manual approval")
        workdir = tempfile.mkdtemp(prefix="console-cmp-")
        clients = {}
        for name in ["waiting-device", "doubtful-device"]:
            status, secret = api("POST", "/v1/enrollment/profiles/guarded/one-time-passwords", {"label": name})
            check(status == 201, f"API makes a one-time password for {name}")
            clients[name] = cmp_client(workdir, secret, name)
            pending_requests(len(clients))
        driver.get(BASE + "/ui/requests")
        rows = driver.find_elements(By.CSS_SELECTOR, "#requests tbody tr")
        check(len(rows) == 2, f"the queue shows both held requests ({len(rows)})")
        check(any("CN=waiting-device" in r.text for r in rows), "the queue shows the subject each client asked for")
        shot(driver, "requests")
        row = next(r for r in rows if "waiting-device" in r.text)
        click(driver, row.find_element(By.CSS_SELECTOR, "button.approve"))
        check("approved" in driver.find_element(By.ID, "notice").text, "the approval is confirmed")
        row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "#requests tbody tr") if "doubtful-device" in r.text)
        row.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("not on line 7")
        click(driver, row.find_element(By.CSS_SELECTOR, "button.reject"))
        check("rejected" in driver.find_element(By.ID, "notice").text, "the rejection is confirmed")
        check(not driver.find_elements(By.CSS_SELECTOR, "#requests tbody tr"), "nothing is pending any more")
        output, _ = clients["waiting-device"].communicate(timeout=120)
        check(clients["waiting-device"].returncode == 0, f"openssl cmp gets the approved certificate ({output[-300:]})")
        issued = x509.load_pem_x509_certificate(open(os.path.join(workdir, "waiting-device.pem"), "rb").read())
        check(issued.subject.rfc4514_string() == "CN=waiting-device", "the certificate is the one requested")
        output, _ = clients["doubtful-device"].communicate(timeout=120)
        check(clients["doubtful-device"].returncode != 0 and "not on line 7" in output,
              f"the rejected client is told the officer's reason ({output[-300:]})")
        driver.get(BASE + "/ui/requests?state=rejected")
        check("not on line 7" in driver.find_element(By.ID, "requests").text, "the rejected tab shows the reason")

        # Four eyes: an officer's own request through a console profile waits for another officer.
        status, _ = api("POST", "/v1/enrollment/profiles", {"id": "witnessed", "ca": "line-ca", "category": "device",
                                                            "protocols": ["console"], "approval": "manual"})
        check(status == 201, "API creates a profile offering the console with manual approval")
        click(driver, driver.find_element(By.ID, "new-request-link"))
        Select(driver.find_element(By.ID, "profile")).select_by_value("witnessed")
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, "csr"), "not a request")
        click(driver, driver.find_element(By.ID, "submit-request"))
        check("not a PEM" in driver.find_element(By.ID, "request-error").text, "a request that is not PEM is refused next to the field")
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, "csr"), csr_pem("witnessed-device"))
        click(driver, driver.find_element(By.ID, "submit-request"))
        check("another officer" in driver.find_element(By.ID, "notice").text, "the officer's request is held for another officer")
        row = next(r for r in driver.find_elements(By.CSS_SELECTOR, "#requests tbody tr") if "witnessed-device" in r.text)
        check(not row.find_elements(By.CSS_SELECTOR, "button.approve") and row.find_elements(By.CSS_SELECTOR, ".own"),
              "its requester is offered no approval")
        witnessed = row.get_attribute("id").removeprefix("request-")
        csrf = driver.find_element(By.CSS_SELECTOR, "form.signout input[name=csrf]").get_attribute("value")
        status, body = session_post(driver, f"/ui/requests/{witnessed}/approve", {"csrf": csrf})
        check(status == 403 and "four eyes" in body, f"the server refuses the requester's own approval ({status})")
        check(api("GET", f"/v1/enrollment/requests/{witnessed}")[1]["state"] == "pending", "the request is still pending")

        # Policies: the rules and where they come from; a broken or inconsistent policy is refused next to
        # the field and stores nothing; a good one is saved and the API agrees.
        click(driver, driver.find_element(By.LINK_TEXT, "Policies"))
        Select(driver.find_element(By.ID, "ca")).select_by_value("line-ca")
        Select(driver.find_element(By.ID, "category")).select_by_value("device")
        click(driver, driver.find_element(By.ID, "show-policy"))
        check("built-in" in driver.find_element(By.ID, "policy-source").text, "the page says the policy is the built-in one")
        check("Key algorithms" in driver.find_element(By.ID, "rules").text, "the policy's rules are listed")
        document = driver.find_element(By.ID, "document")
        policy = json.loads(document.get_attribute("value"))
        driver.execute_script("arguments[0].value = arguments[1]", document, '{"validityDays": "many"}')
        click(driver, driver.find_element(By.ID, "save-policy"))
        check("validityDays must be an integer" in driver.find_element(By.ID, "document-error").text,
              "a malformed policy is refused next to the field")
        check('"many"' in driver.find_element(By.ID, "document").get_attribute("value"), "what was entered stays in the form")
        wrong = dict(policy, validityDays=policy["maxValidityDays"] + 1)
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, "document"), json.dumps(wrong))
        click(driver, driver.find_element(By.ID, "save-policy"))
        check("at most maxValidityDays" in driver.find_element(By.ID, "document-error").text,
              "an inconsistent policy is refused with the API's message")
        check("built-in" in driver.find_element(By.ID, "policy-source").text, "the refused policies stored nothing")
        changed = dict(policy, maxValidityDays=policy["maxValidityDays"] + 1)
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, "document"), json.dumps(changed))
        click(driver, driver.find_element(By.ID, "save-policy"))
        check("saved" in driver.find_element(By.ID, "notice").text and "own" in driver.find_element(By.ID, "policy-source").text,
              "the policy is saved as the CA's own")
        status, stored = api("GET", "/v1/cas/line-ca/policies/device")
        check(stored["maxValidityDays"] == policy["maxValidityDays"] + 1, "the API shows the saved policy")
        shot(driver, "policies")

        # Enrollment profiles, keys with the signers that may use them.
        click(driver, driver.find_element(By.LINK_TEXT, "Enrollment profiles"))
        click(driver, driver.find_element(By.LINK_TEXT, "guarded"))
        check("/.well-known/cmp/p/guarded" in driver.find_element(By.ID, "record").text, "a profile's page shows its endpoint")
        check('"approval" : "manual"' in driver.find_element(By.ID, "record-json").get_attribute("textContent")
              or '"approval": "manual"' in driver.find_element(By.ID, "record-json").get_attribute("textContent"),
              "the expert view shows the API's JSON")
        check(api("POST", "/v1/keys", {"name": "line-1", "algorithm": "ec-p256"})[0] == 201, "API makes a signing key")
        click(driver, driver.find_element(By.LINK_TEXT, "Keys"))
        click(driver, driver.find_element(By.LINK_TEXT, "line-1"))
        related = driver.find_element(By.ID, "related").text
        check("line-*" in related, f"the key's page lists the signer that may use it ({related})")

        # The vault: names and versions; a value only after a click, and that reading is audited.
        check(api("POST", "/v1/vault", {"name": "plant"})[0] == 201, "API makes a vault namespace")
        for text in ["first secret", "second <b>secret</b>"]:
            check(api("PUT", "/v1/vault/plant/secrets/db/password", {"text": text})[0] in (200, 201), "API writes a secret")
        click(driver, driver.find_element(By.LINK_TEXT, "Vault"))
        click(driver, driver.find_element(By.LINK_TEXT, "plant"))
        click(driver, driver.find_element(By.LINK_TEXT, "db/password"))
        check(len(driver.find_elements(By.CSS_SELECTOR, "#versions tbody tr")) == 2, "both versions are listed")
        check("first secret" not in driver.page_source and "second" not in driver.page_source, "no value is shown before a click")
        click(driver, driver.find_element(By.ID, "reveal-1"))
        check(driver.find_element(By.ID, "secret-value").text == "first secret", "a click reveals the version asked for")
        click(driver, driver.find_element(By.ID, "reveal-2"))
        check(driver.find_element(By.ID, "secret-value").text == "second <b>secret</b>", "a value is shown as text, not markup")
        status, page = api("GET", "/v1/audit?limit=1000")
        reads = [e for e in page["entries"] if e["action"] == "vault.secret.read"]
        check(len(reads) == 2 and all(e["actor"].startswith("credential/") for e in reads), "each reveal is in the audit log")
        shot(driver, "vault")

        # Credentials: one made in the console works through the API until it is revoked there.
        click(driver, driver.find_element(By.LINK_TEXT, "Credentials"))
        Select(driver.find_element(By.ID, "role")).select_by_value("signer")
        click(driver, driver.find_element(By.ID, "create-credential-button"))
        check("needs keys" in driver.find_element(By.ID, "credential-error").text, "a signer without keys is refused")
        Select(driver.find_element(By.ID, "role")).select_by_value("officer")
        click(driver, driver.find_element(By.ID, "create-credential-button"))
        token = driver.find_element(By.ID, "new-token").text.strip()
        check(api("GET", "/v1/certificates?ca=line-ca&limit=1", token=token)[0] == 200, "the new officer's token works")
        row = driver.find_elements(By.CSS_SELECTOR, "#credentials tbody tr")[-1]
        click(driver, row.find_element(By.CSS_SELECTOR, "button.danger"))
        check("revoked" in driver.find_element(By.ID, "notice").text, "the revocation is confirmed")
        check(api("GET", "/v1/certificates?ca=line-ca&limit=1", token=token)[0] == 401, "the revoked token no longer works")

        # The audit log: filtered by action, and the hash chain verified.
        driver.get(BASE + "/ui/audit")
        driver.find_element(By.ID, "action").send_keys("enrollment.")
        click(driver, driver.find_element(By.ID, "filter-button"))
        actions = {r.find_elements(By.TAG_NAME, "td")[3].text for r in driver.find_elements(By.CSS_SELECTOR, "#entries tbody tr")}
        check({"enrollment.approve", "enrollment.reject"} <= actions and all(a.startswith("enrollment.") for a in actions),
              f"the audit log filters by action ({actions})")
        click(driver, driver.find_element(By.ID, "verify-button"))
        check("intact" in driver.find_element(By.ID, "verification").text, "the console verifies the hash chain")
        shot(driver, "audit")

        # A forged form (the session's cookie, no CSRF token) changes nothing.
        status, body = session_post(driver, f"/ui/cas/line-ca/certificates/{hostile}/revoke", {"reason": "superseded"})
        check(status == 403 and "CSRF" in body, f"a form without the CSRF token is refused ({status})")
        status, answer = api("GET", f"/v1/cas/line-ca/certificates/{hostile}")
        check(answer["status"] == "valid", "the forged form revoked nothing")

        # German, kept across pages.
        click(driver, driver.find_element(By.ID, "language"))
        check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de", "the language switch gives German")
        driver.get(BASE + "/ui/")
        check(driver.find_element(By.TAG_NAME, "h1").text == "Übersicht", "the choice stays for later pages")
        shot(driver, "dashboard-de")
        click(driver, driver.find_element(By.ID, "language"))
        sign_out(driver)
        check("abgemeldet" in driver.find_element(By.ID, "notice").text or "signed out" in driver.find_element(By.ID, "notice").text,
              "sign-out is confirmed")
        driver.get(BASE + "/ui/")
        check(driver.current_url.endswith("/ui/signin"), "after sign-out the dashboard needs a sign-in again")

        # A signer may not use the console; the server refuses the pages, not only the menu.
        sign_in(driver, SIGNER)
        check(driver.find_element(By.TAG_NAME, "h1").text in ("Not allowed", "Nicht erlaubt"), "a signer's session is refused the dashboard")
        check(not driver.find_elements(By.CSS_SELECTOR, "nav a"), "a signer sees no navigation")
        driver.get(BASE + "/ui/cas/line-ca")
        check("administrators, officers and auditors" in driver.find_element(By.ID, "error-message").text, "a signer is refused CA pages")
        sign_out(driver)

        # An auditor sees the dashboard but no revocation form; an idle session ends.
        sign_in(driver, AUDITOR)
        driver.get(BASE + f"/ui/cas/line-ca/certificates/{hostile}")
        check(not driver.find_elements(By.ID, "revoke"), "an auditor is offered no revocation")
        driver.get(BASE + "/ui/cas")
        check(not driver.find_elements(By.ID, "create-ca"), "an auditor is offered no CA creation")
        # With the session's own CSRF token (from the sign-out form), so that only the role can refuse it.
        token = driver.find_element(By.CSS_SELECTOR, "form.signout input[name=csrf]").get_attribute("value")
        status, body = session_post(driver, f"/ui/cas/line-ca/certificates/{hostile}/revoke",
                                    {"reason": "superseded", "csrf": token})
        check(status == 403 and "CSRF" not in body, f"the server refuses an auditor's revocation by role ({status})")
        check(api("GET", f"/v1/cas/line-ca/certificates/{hostile}")[1]["status"] == "valid", "the auditor revoked nothing")
        # An auditor sees the vault's versions but no value, and the server refuses a reveal posted anyway.
        driver.get(BASE + "/ui/vault/plant/secret?path=db/password")
        check(driver.find_elements(By.CSS_SELECTOR, "#versions tbody tr") and not driver.find_elements(By.CSS_SELECTOR, "button.reveal"),
              "an auditor sees versions without a reveal button")
        status, body = session_post(driver, "/ui/vault/plant/reveal", {"path": "db/password", "version": "1", "csrf": token})
        check(status == 403 and "first secret" not in body, f"the server refuses an auditor's reveal ({status})")
        driver.get(BASE + "/ui/policies?ca=line-ca&category=device")
        check(not driver.find_elements(By.ID, "policy-form"), "an auditor is offered no policy change")
        time.sleep(IDLE + 2)
        driver.get(BASE + "/ui/")
        check(driver.current_url.endswith("/ui/signin?expired=1"), "an idle session ends")
        check("ended" in driver.find_element(By.ID, "notice").text or "abgelaufen" in driver.find_element(By.ID, "notice").text,
              "the sign-in page says the session ended")
        # A second officer approves the first one's request; the certificate names who asked.
        status, second = api("POST", "/v1/credentials", {"role": "officer"})
        check(status == 201, "API makes a second officer")
        sign_in(driver, second["token"])
        driver.get(BASE + "/ui/requests")
        row = driver.find_element(By.ID, f"request-{witnessed}")
        click(driver, row.find_element(By.CSS_SELECTOR, "button.approve"))
        check("approved" in driver.find_element(By.ID, "notice").text, "the second officer's approval is confirmed")
        status, decided = api("GET", f"/v1/enrollment/requests/{witnessed}")
        check(decided["state"] == "issued" and decided["decidedBy"] == f"credential/{second['id']}",
              f"the request is issued, decided by the second officer ({decided})")
        status, issued = api("GET", f"/v1/cas/line-ca/certificates/{decided['serial']}")
        check(issued["metadata"].get("enrollment.client", "").startswith("credential/")
              and issued["metadata"]["enrollment.client"] != decided["decidedBy"],
              "the certificate names the requesting officer, not the approver")
        sign_out(driver)
        portal(driver)
    finally:
        driver.quit()
        subprocess.run(["rm", "-rf", profile])

    # Every sign-in, failure and sign-out is in the audit log.
    status, page = api("GET", "/v1/audit?limit=1000")
    actions = [(e["action"], e["outcome"].split(":")[0]) for e in page["entries"]]
    check(("console.signin", "failure") in actions, "the failed sign-in is audited")
    check(actions.count(("console.signin", "success")) == 4, "four sign-ins are audited")
    check(actions.count(("console.signout", "success")) == 3, "three sign-outs are audited")
    check(("portal.signin", "failure") in actions and ("portal.signin", "success") in actions,
          "portal sign-ins and their failures are audited")
    print("all console checks passed", flush=True)


main()
