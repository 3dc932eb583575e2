import CustosTestSupport
import Foundation
import Testing

/// The web console in a real browser: `Tests/Browser/console_test.py` drives headless Chromium through
/// Selenium (Debian's chromium, chromium-driver and python3-selenium) against `custos serve`: sign-in and
/// its failure, the dashboard's counts, expiry chart, CRLs and audit events, the CA tree and downloads,
/// a metadata search, markup in stored values shown as text, revocation by form, metadata, renewal, CSV
/// reports, bulk revocation after a preview, policies, profiles, keys, the vault's reveal (audited),
/// credentials made and revoked, a forged form without
/// the CSRF token, German, sign-out, a signer refused, an auditor refused a revocation by the server,
/// and an idle session ending. It saves screenshots of the main pages; with `CUSTOS_UPDATE_SCREENSHOTS`
/// set it saves them into `docs/screenshots/` for the operator guide.
@Suite struct ConsoleBrowserTests {
    @Test func theConsoleWorksInChromium() async throws {
        let directory = try makeTemporaryDirectory("console")
        let idleSeconds = 6
        try "console:\n  idleSeconds: \(idleSeconds)\n".write(
            toFile: "\(directory)/custos.yaml",
            atomically: true,
            encoding: .utf8
        )
        let serve = try ServeProcess(["--port", "0", "--config", "custos.yaml"], directory: directory)
        #expect(try await serve.waitFor("press Ctrl-C to stop"), "\(serve.text)")
        let port = try #require(serve.text.split(separator: "serving HTTP on 127.0.0.1:").last?.prefix { $0.isNumber })
        let data = "\(directory)/.custos"
        let admin = try String(contentsOfFile: "\(data)/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func credential(_ arguments: [String]) async throws -> String {
            let created = try await custosClient(["credential", "create", "--data-dir", data] + arguments)
            #expect(created.status == 0, "\(created.stderr)")
            return try #require(created.stdout.split(separator: "\n").last.map(String.init))
        }
        let signer = try await credential(["--role", "signer", "--keys", "line-*"])
        let auditor = try await credential(["--role", "auditor"])
        let shots =
            ProcessInfo.processInfo.environment["CUSTOS_UPDATE_SCREENSHOTS"] != nil
            ? "\(repositoryRoot)/docs/screenshots" : try makeTemporaryDirectory("console-shots")
        let result = try await runClient(
            "/usr/bin/python3",
            ["\(repositoryRoot)/Tests/Browser/console_test.py"],
            environment: [
                "CUSTOS_URL": "http://127.0.0.1:\(port)", "CUSTOS_ADMIN": admin, "CUSTOS_SIGNER": signer,
                "CUSTOS_AUDITOR": auditor, "CUSTOS_IDLE": String(idleSeconds), "SCREENSHOTS": shots,
                "PATH": "/usr/bin:/bin",
            ]
        )
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)\n\(serve.text.suffix(4000))")
        #expect(result.stdout.contains("all console checks passed"), "\(result.stdout)")
        for page in [
            "signin", "dashboard", "certificates", "certificate", "dashboard-de", "requests", "audit", "portal",
            "bulk-revocation", "policies", "vault",
        ] {
            let png = try Data(contentsOf: URL(fileURLWithPath: "\(shots)/console-\(page).png"))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "screenshot \(page)")
        }
        #expect(try await serve.stop() == 0)
    }
}
