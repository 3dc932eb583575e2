import CA
import CustosTestSupport
import Foundation
import Server
import Testing

/// A strict relying party: pyhanko-certvalidator with CRLs required, fetching the full CRL and the
/// delta CRL over HTTP from the URLs in the certificate alone (a full CRL that names a delta the
/// certificate does not is refused as indeterminate).
@Suite(.serialized, .stopsServers) struct StrictValidatorTests {
    /// Serves `/crl/…` from Custos at the public URL the certificates name, then validates.
    static let validator = #"""
        import asyncio, sys, threading, urllib.request, http.server
        from asn1crypto import pem, x509
        from pyhanko_certvalidator import ValidationContext, CertificateValidator
        from pyhanko_certvalidator.errors import RevokedError
        from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

        custos, public_port, root_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]

        class Forward(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with urllib.request.urlopen(custos + self.path) as answer:
                    body = answer.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                print("fetched", self.path, file=sys.stderr)
            def log_message(self, *arguments):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", public_port), Forward)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        def load(path):
            data = open(path, "rb").read()
            if pem.detect(data):
                _, _, data = pem.unarmor(data)
            return x509.Certificate.load(data)

        root = load(root_path)
        for path in sys.argv[4:]:
            # 60 s per fetch rather than 10: a CRL served while the whole suite loads both cores can take longer.
            context = ValidationContext(
                trust_roots=[root], revocation_mode="require", allow_fetching=True,
                fetcher_backend=RequestsFetcherBackend(per_request_timeout=60),
            )
            try:
                validator = CertificateValidator(load(path), validation_context=context)
                asyncio.run(validator.async_validate_usage(set()))
                print(path, "valid")
            except RevokedError as error:
                print(path, "revoked")
            except Exception as error:
                print(path, "failed:", type(error).__name__, error)
        """#

    @Test func pyhankoRequiringCRLsFetchesTheFullAndDeltaCRLsTheCertificateNames() async throws {
        let publicPort = try RawConnection.freePort()
        var configuration = ServerConfiguration(port: 0)
        configuration.ca = CAConfiguration(publicBaseURL: "http://127.0.0.1:\(publicPort)")
        let server = try await ServerFixture(configuration: configuration)
        let directory = try makeTemporaryDirectory("custos-strict")
        try await CARouteTests().createCA(server, id: "strict", algorithm: "ec-p256", subject: "CN=Strict Root")
        var leaves: [String] = []
        var serials: [String] = []
        for name in ["kept", "revoked"] {
            let issued = try await issueLeaf(server, ca: "strict", name: name, category: "tls-client", in: directory)
            leaves.append(issued.path)
            serials.append(issued.serial)
        }
        let revoked = try await server.request(
            "POST",
            "/v1/cas/strict/certificates/\(serials[1])/revoke",
            token: server.adminToken,
            json: ["reason": "keyCompromise"]
        )
        #expect(revoked.status == 200, "\(revoked.text)")
        let published = try await server.request("POST", "/v1/cas/strict/crl", token: server.adminToken)
        #expect(published.status == 200, "\(published.text)")
        let root = try await server.request("GET", "/v1/cas/strict/certificate", token: server.adminToken)
        let rootPath = try writeFile(directory, "root.pem", root.body)
        let script = try writeFile(directory, "validate.py", Data(Self.validator.utf8))

        let result = try await runClient(
            "python3",
            [script, "http://127.0.0.1:\(server.port)", String(publicPort), rootPath] + leaves
        )
        #expect(result.stdout.contains("\(leaves[0]) valid"), "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\(leaves[1]) revoked"), "\(result.stdout)\(result.stderr)")
        // Both lists came from the URLs in the certificate.
        #expect(result.stderr.contains("fetched /crl/strict.crl"), "\(result.stderr)")
        #expect(result.stderr.contains("fetched /crl/strict.delta.crl"), "\(result.stderr)")
    }
}
