import CustosTestSupport
import Foundation
import Testing

/// Search, metadata, bulk revocation and reports over real HTTP.
@Suite(.serialized, .stopsServers) struct CertificateSearchTests {
    @Test func searchMetadataBulkRevocationAndReports() async throws {
        let server = try await ServerFixture()
        let directory = try makeTemporaryDirectory("custos-search")
        let ca = CARouteTests()
        try await ca.createCA(server, id: "fleet", algorithm: "ec-p256", subject: "CN=Fleet CA")
        try await ca.createCA(server, id: "other", algorithm: "ec-p256", subject: "CN=Other CA")
        var serials: [String] = []
        for index in 0..<12 {
            let csr = try makeCSR(
                directory,
                name: "sensor-\(index)",
                newkey: CARouteTests.leafKeys[0].newkey,
                subject: "/CN=sensor-\(index)",
                extra: ["-addext", "subjectAltName=DNS:sensor-\(index).fleet.example"]
            )
            var metadata = ["batch": index < 6 ? "b-1" : "b-2"]
            if index % 2 == 0 { metadata["line"] = "3" }
            let issued = try await server.request(
                "POST",
                "/v1/cas/fleet/certificates",
                token: server.adminToken,
                json: ["csr": csr, "category": "device", "metadata": metadata]
            )
            try #require(issued.status == 201, "\(issued.text)")
            serials.append(issued.json["serial"] as! String)
        }
        // One short-lived certificate at the other CA with the same batch name.
        let short = try makeCSR(
            directory,
            name: "short",
            newkey: CARouteTests.leafKeys[0].newkey,
            subject: "/CN=short-lived"
        )
        let shortIssued = try await server.request(
            "POST",
            "/v1/cas/other/certificates",
            token: server.adminToken,
            json: ["csr": short, "category": "tls-client", "validityDays": 10, "metadata": ["batch": "b-1"]]
        )
        try #require(shortIssued.status == 201, "\(shortIssued.text)")

        func search(_ query: String, token: String? = nil) async throws -> (serials: [String], next: String?) {
            let result = try await server.request("GET", "/v1/certificates?\(query)", token: token ?? server.adminToken)
            try #require(result.status == 200, "\(query): \(result.text)")
            let certificates = result.json["certificates"] as? [[String: Any]] ?? []
            return (certificates.compactMap { $0["serial"] as? String }, result.json["nextCursor"] as? String)
        }
        #expect(try await search("metadata.batch=b-1").serials.count == 7, "both CAs")
        #expect(Set(try await search("metadata.batch=b-1&ca=fleet").serials) == Set(serials[0..<6]))
        #expect(
            Set(try await search("metadata.batch=b-2&metadata.line=3").serials) == Set([6, 8, 10].map { serials[$0] })
        )
        #expect(try await search("q=SENSOR-1").serials.count == 3, "sensor-1, -10, -11 (case-insensitive)")
        #expect(try await search("q=sensor-7.fleet").serials == [serials[7]], "SAN text")
        #expect(try await search("serial=\(serials[4])").serials == [serials[4]])
        #expect(try await search("ca=fleet&category=device").serials.count == 12)
        // A CA alone: its range of keys, before and after another CA's; together they are everything.
        let shortSerial = shortIssued.json["serial"] as! String
        let other = try await search("ca=other&limit=1000")
        let fleet = try await search("ca=fleet&limit=1000")
        let everything = try await search("limit=1000")
        #expect(other.serials.contains(shortSerial) && Set(other.serials).isDisjoint(with: serials), "\(other)")
        #expect(Set(fleet.serials).isSuperset(of: serials) && !fleet.serials.contains(shortSerial), "\(fleet)")
        #expect(Set(everything.serials) == Set(other.serials + fleet.serials))
        #expect(everything.serials.count == other.serials.count + fleet.serials.count)
        #expect(try await search("category=tls-client").serials == [shortIssued.json["serial"] as! String])
        let window = ISO8601DateFormatter().string(from: Date().addingTimeInterval(20 * 86_400))
        #expect(try await search("expiresBefore=\(window)").serials == [shortIssued.json["serial"] as! String])
        // Pages: 4 + 4 + 4, in a stable order, each certificate once.
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await search("ca=fleet&category=device&limit=4" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(page.serials.count <= 4)
            seen += page.serials
            cursor = page.next
        } while cursor != nil
        #expect(seen.count == 12 && Set(seen) == Set(serials), "\(seen)")
        // CSV.
        let csv = try await server.request(
            "GET",
            "/v1/certificates?metadata.batch=b-2&format=csv",
            token: server.adminToken
        )
        let lines = csv.text.split(separator: "\r\n")
        #expect(csv.headers["content-type"]?.hasPrefix("text/csv") == true && lines.count == 7, "\(csv.text)")
        #expect(lines.first?.hasPrefix("ca,serial,subject,alternative_names") == true)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("fleet,") && $0.contains("batch=b-2") })
        // Bad queries.
        let badStatus = try await server.request("GET", "/v1/certificates?status=sleeping", token: server.adminToken)
        #expect(badStatus.status == 400 && badStatus.errorMessage.contains("status"), "\(badStatus.text)")
        let badDate = try await server.request(
            "GET",
            "/v1/certificates?expiresBefore=tomorrow",
            token: server.adminToken
        )
        #expect(badDate.status == 400 && badDate.errorMessage.contains("RFC 3339"), "\(badDate.text)")

        // Metadata set later: add a pair to two certificates, remove one from another.
        for serial in [serials[1], serials[2]] {
            let patched = try await server.request(
                "PATCH",
                "/v1/cas/fleet/certificates/\(serial)/metadata",
                token: server.adminToken,
                json: ["metadata": ["qa": "failed"]]
            )
            #expect(patched.status == 200 && (patched.json["metadata"] as? [String: String])?["qa"] == "failed")
        }
        let removed = try await server.request(
            "PATCH",
            "/v1/cas/fleet/certificates/\(serials[0])/metadata",
            token: server.adminToken,
            json: ["metadata": ["line": NSNull()]]
        )
        #expect((removed.json["metadata"] as? [String: String]) == ["batch": "b-1"], "\(removed.text)")
        #expect(Set(try await search("metadata.qa=failed").serials) == Set([serials[1], serials[2]]))
        #expect(!(try await search("metadata.line=3").serials.contains(serials[0])), "the index follows the change")

        // Bulk revocation of the batch that failed QA; the other CA's b-1 certificate is untouched.
        let bulk = try await server.request(
            "POST",
            "/v1/cas/fleet/revocations",
            token: server.adminToken,
            json: ["filter": ["metadata": ["batch": "b-1"]], "reason": "superseded"]
        )
        #expect(bulk.status == 200 && bulk.json["revoked"] as? Int == 6, "\(bulk.text)")
        #expect(Set(bulk.json["serials"] as? [String] ?? []) == Set(serials[0..<6]))
        let repeated = try await server.request(
            "POST",
            "/v1/cas/fleet/revocations",
            token: server.adminToken,
            json: ["filter": ["metadata": ["batch": "b-1"]], "reason": "superseded"]
        )
        #expect(repeated.json["revoked"] as? Int == 0, "\(repeated.text)")
        let unfiltered = try await server.request(
            "POST",
            "/v1/cas/fleet/revocations",
            token: server.adminToken,
            json: ["filter": [:]]
        )
        #expect(unfiltered.status == 400 && unfiltered.errorMessage.contains("condition"), "\(unfiltered.text)")
        #expect(Set(try await search("status=revoked").serials) == Set(serials[0..<6]))
        #expect(try await search("status=valid&ca=fleet&category=device").serials.count == 6)
        // The root's own certificate is one that it issued, too.
        #expect(try await search("status=valid&ca=fleet").serials.count == 7)
        let crl = try await server.request("GET", "/crl/fleet.crl", token: nil)
        let crlText = try runCommand("openssl", ["crl", "-inform", "DER", "-noout", "-text"], input: crl.body).stdout
        #expect(crlText.components(separatedBy: "Serial Number:").count - 1 == 6, "\(crlText)")
        #expect(crlText.components(separatedBy: "Superseded").count - 1 == 6)

        // Reports: the 10-day certificate expires within 30 days; revoked ones never count.
        let expiring = try await server.request("GET", "/v1/reports/expiring?days=30", token: server.adminToken)
        let listed = (expiring.json["certificates"] as? [[String: Any]])?.compactMap { $0["serial"] as? String }
        #expect(listed == [shortIssued.json["serial"] as! String], "\(expiring.text)")
        let summary = try await server.request("GET", "/v1/reports/summary", token: server.adminToken)
        let counts = (summary.json["counts"] as? [[String: Any]] ?? []).map {
            "\($0["ca"]!)/\($0["category"]!)/\($0["status"]!)=\($0["count"]!)"
        }
        for line in ["fleet/device/valid=6", "fleet/device/revoked=6", "other/tls-client/valid=1"] {
            #expect(counts.contains(line), "\(counts)")
        }
        // The same report from the CLI, on the store the server has open.
        let custos = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("custos").path
        let cli = try runCommand(
            custos,
            ["report", "expiring", "--days", "30", "--format", "csv", "--data-dir", server.directory]
        )
        let rows = cli.stdout.split(separator: "\r\n")
        #expect(
            cli.status == 0 && rows.count == 2 && rows[1].hasPrefix("other,\(shortIssued.json["serial"] as! String),"),
            "\(cli.stdout) \(cli.stderr)"
        )
        let table = try runCommand(custos, ["report", "expiring", "--days", "5", "--data-dir", server.directory])
        #expect(table.stdout.contains("0 certificate(s) expire within 5 days"), "\(table.stdout)")
        let cliSummary = try runCommand(custos, ["report", "summary", "--data-dir", server.directory])
        #expect(cliSummary.stdout.contains("fleet,device,revoked,6"), "\(cliSummary.stdout) \(cliSummary.stderr)")
        let badDays = try runCommand(custos, ["report", "expiring", "--days", "-3", "--data-dir", server.directory])
        #expect(badDays.status != 0 && badDays.stderr.contains("--days"), "\(badDays.stderr)")
        // An auditor reads reports but does not revoke.
        let auditor = try await server.credential(.auditor)
        #expect(try await search("ca=fleet&category=device", token: auditor).serials.count == 12)
        let refused = try await server.request(
            "POST",
            "/v1/cas/fleet/revocations",
            token: auditor,
            json: ["filter": ["metadata": ["batch": "b-2"]]]
        )
        #expect(refused.status == 403)
    }
}
