import CustosTestSupport
import Foundation
import Logging
import MetadataStore
import Server
import Testing
import X509

/// A profile that holds requests while its upstream CA cannot be reached: the device's CMP client is
/// told to wait and polls; the background retry sends the request again once the upstream is back, and
/// the device gets its certificate (or the upstream's refusal) at its next poll.
@Suite(.serialized, .stopsServers) struct UpstreamHoldTests {
    @Test func heldRequestsReachTheUpstreamOnceItIsBack() async throws {
        let upstream = try await UpstreamCMPCA.start()
        // A refused connection fails at once; the long bound only keeps a loaded machine from running
        // out of time before the request is sent ("no time was left to send").
        try await upstream.record("corporate", ["attempts": 1, "timeoutSeconds": 30])
        try upstream.deviceCertificate("device", subject: "/CN=device-11", names: "DNS:device-11.test")
        try upstream.deviceCertificate("second", subject: "/CN=device-12", names: "DNS:device-12.test")
        let server = upstream.server
        let profile = try await server.request(
            "POST",
            "/v1/enrollment/profiles",
            token: server.adminToken,
            json: [
                "id": "held", "ca": "corporate", "category": "device", "protocols": ["cmp"],
                "whenUpstreamUnavailable": "hold", "cmp": ["checkAfterSeconds": 1],
            ]
        )
        try #require(profile.status == 201, "\(profile.text)")
        #expect(profile.json["whenUpstreamUnavailable"] as? String == "hold")

        // The upstream is down: the device is told to wait, and polls.
        let first = try await enroll(upstream, key: "device", subject: "/CN=device-11", out: "got.pem")
        let waiting = try await pending(server, count: 1)
        #expect(waiting.first?["awaitingUpstream"] as? Bool == true)
        #expect((waiting.first?["upstreamError"] as? String)?.contains("could not be reached") == true, "\(waiting)")

        // It is back: the retry service sends the request again, and the device's next poll gets the
        // certificate.
        let mock = try upstream.mock(answering: "device.pem")
        let retries = Task {
            try await UpstreamRetryService(
                enrollment: server.api.enrollment,
                interval: .milliseconds(500),
                logger: Logger(label: "upstream-retry-test")
            ).run()
        }
        let got = try await first.value
        #expect(got.status == 0, "\(got.stdout)\(got.stderr)")
        #expect(
            try Certificate(pemEncoded: upstream.text("got.pem"))
                == Certificate(pemEncoded: upstream.text("device.pem"))
        )
        let issued = try await server.request("GET", "/v1/enrollment/requests?state=issued", token: server.adminToken)
        let decided = try #require(issued.json["requests"] as? [[String: Any]])
        #expect(decided.count == 1 && decided.first?["decidedBy"] as? String == "upstream-retry", "\(issued.text)")
        #expect(decided.first?["awaitingUpstream"] as? Bool == false)
        retries.cancel()
        mock.stop()

        // Down again; when it comes back refusing, the held request is rejected with its reason.
        let second = try await enroll(upstream, key: "second", subject: "/CN=device-12", out: "second-got.pem")
        _ = try await pending(server, count: 1)
        let refusing = try upstream.mock(answering: "second.pem", ["-pkistatus", "2", "-failure", "2"])
        defer { refusing.stop() }
        let round = try await server.api.enrollment.retryRequestsAwaitingUpstream()
        #expect(round.rejected == 1 && round.issued == 0, "\(round)")
        let refused = try await second.value
        #expect(refused.status != 0, "\(refused.stdout)")
        let rejected = try await server.request(
            "GET",
            "/v1/enrollment/requests?state=rejected",
            token: server.adminToken
        )
        let reason = (rejected.json["requests"] as? [[String: Any]])?.first?["reason"] as? String
        #expect(
            reason?.contains("upstream CA refused") == true && reason?.contains("badRequest") == true,
            "\(rejected.text)"
        )
        #expect(try await upstream.certificates().count == 1)
    }

    /// `openssl cmp ir` with a new one-time secret of the profile, run in the background (it polls).
    private func enroll(_ upstream: UpstreamCMPCA, key: String, subject: String, out: String) async throws
        -> Task<CommandResult, any Error>
    {
        let otp = try await upstream.server.request(
            "POST",
            "/v1/enrollment/profiles/held/one-time-passwords",
            token: upstream.server.adminToken,
            json: ["label": key]
        )
        try #require(otp.status == 201, "\(otp.text)")
        let id = try #require(otp.json["id"] as? String)
        let secret = try #require(otp.json["secret"] as? String)
        let arguments = [
            "cmp", "-server", "http://127.0.0.1:\(upstream.server.port)/.well-known/cmp/p/held",
            "-recipient", "/CN=Corporate CA/O=Upstream Tests", "-msg_timeout", "30", "-total_timeout", "60",
            "-cmd", "ir", "-ref", id, "-secret", "pass:" + secret, "-newkey", "\(key).key", "-subject", subject,
            "-certout", out,
        ]
        let directory = upstream.directory
        return Task { try await runClient("openssl", arguments, currentDirectory: directory) }
    }

    /// The pending requests once there are `count` of them (within 20 s).
    private func pending(_ server: ServerFixture, count: Int) async throws -> [[String: Any]] {
        for _ in 0..<200 {
            let page = try await server.request(
                "GET",
                "/v1/enrollment/requests?state=pending",
                token: server.adminToken
            )
            if let requests = page.json["requests"] as? [[String: Any]], requests.count == count { return requests }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("no \(count) pending request(s) in time")
    }
}
