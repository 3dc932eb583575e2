import CustosTestSupport
import Foundation
import Testing

/// Challenges whose responders answer wrongly, slowly or not at all: each authorization ends invalid
/// with the RFC's problem within the validator's bounded time, its order turns invalid, nothing is
/// issued, and the server keeps answering meanwhile.
@Suite(.serialized) struct ACMEChallengeFailureTests {
    /// Answers one challenge of the authorization of `identifier` and waits for its outcome.
    static func attempt(
        _ client: ACMETestClient,
        _ identifier: (String, String),
        type: String,
        prepare: (String) throws -> Void = { _ in },
        meanwhile: () async throws -> Void = {}
    ) async throws -> (order: HTTPResult, authorization: [String: Any]) {
        let placed = try await client.order([identifier])
        try #require(placed.status == 201, "\(placed.text)")
        let authorizationURL = try #require((placed.json["authorizations"] as? [String])?.first)
        let authorization = try await client.get(authorizationURL)
        let challenge = try #require(
            (authorization.json["challenges"] as? [[String: Any]])?.first { $0["type"] as? String == type }
        )
        try prepare(challenge["token"] as! String)
        let started = try await client.post(challenge["url"] as! String, [String: Any]())
        #expect(started.status == 200, "\(started.text)")
        try await meanwhile()
        let done = try await client.poll(authorizationURL, seconds: 60) { $0["status"] as? String != "pending" }
        return (try await client.get(placed.headers["location"]!), done.json)
    }

    static func problem(of authorization: [String: Any]) -> String? {
        let challenges = authorization["challenges"] as? [[String: Any]] ?? []
        let error = challenges.compactMap { $0["error"] as? [String: Any] }.first
        return (error?["type"] as? String)?.replacingOccurrences(of: "urn:ietf:params:acme:error:", with: "")
    }

    @Test func wrongMissingAndSilentRespondersFailTheChallenge() async throws {
        // Long enough that a loaded machine still connects to the responder (a refusal here must be the
        // response's, not "connection"); the bounded-time case is the next test's.
        let acme = try await ACMEServer.start(challengeServerAnswers: true) { configuration in
            configuration.acmeValidation.attemptTimeout = .seconds(8)
        }
        defer { acme.stop() }
        try await acme.profile("web")
        let client = ACMETestClient(acme)
        try await client.register()

        let wrong = try await Self.attempt(client, ("dns", "wrong.acme.test"), type: "http-01") { token in
            try acme.challenges.manage("add-http01", ["token": token, "content": "\(token).not-the-thumbprint"])
        }
        #expect(wrong.authorization["status"] as? String == "invalid")
        #expect(Self.problem(of: wrong.authorization) == "incorrectResponse", "\(wrong.authorization)")
        #expect(wrong.order.json["status"] as? String == "invalid", "\(wrong.order.text)")

        let unanswered = try await Self.attempt(client, ("dns", "missing.acme.test"), type: "http-01")
        // pebble-challtestsrv answers 200 with nothing for tokens it does not know.
        #expect(Self.problem(of: unanswered.authorization) == "incorrectResponse", "\(unanswered.authorization)")

        let noRecord = try await Self.attempt(client, ("dns", "txt.acme.test"), type: "dns-01")
        #expect(Self.problem(of: noRecord.authorization) == "unauthorized", "\(noRecord.authorization)")
        let wrongRecord = try await Self.attempt(client, ("dns", "txt2.acme.test"), type: "dns-01") { _ in
            try acme.challenges.setTXT("txt2.acme.test", "not-the-digest")
        }
        #expect(Self.problem(of: wrongRecord.authorization) == "unauthorized", "\(wrongRecord.authorization)")
        let noCertificate = try await Self.attempt(client, ("dns", "alpn.acme.test"), type: "tls-alpn-01")
        #expect(Self.problem(of: noCertificate.authorization) != nil, "\(noCertificate.authorization)")
        #expect(try await acme.audit("acme.authorization.invalid").count == 5)
        #expect(try await acme.audit("certificate.enroll").isEmpty)
    }

    @Test func silentAndAbsentServersAreGivenUpOnInBoundedTime() async throws {
        let acme = try await ACMEServer.start { configuration in
            configuration.acmeValidation.attemptTimeout = .seconds(2)
            configuration.acmeValidation.attempts = 2
        }
        defer { acme.stop() }
        try await acme.profile("web")
        let client = ACMETestClient(acme)
        try await client.register()

        // Nothing listens on the http-01 port.
        let refused = try await Self.attempt(client, ("dns", "closed.acme.test"), type: "http-01")
        #expect(Self.problem(of: refused.authorization) == "connection", "\(refused.authorization)")

        // A server that accepts and never answers: two attempts of 2 s, then invalid.
        let silent = Process()
        silent.executableURL = URL(fileURLWithPath: try which("python3"))
        silent.arguments = [
            "-c",
            "import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                + "s.bind(('127.0.0.1',\(acme.http01Port)))\ns.listen(64)\nheld=[]\nwhile True:\n"
                + "    held.append(s.accept())\n",
        ]
        try silent.run()
        defer {
            kill(silent.processIdentifier, SIGKILL)
            silent.waitUntilExit()
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = Date()
        let slow = try await Self.attempt(client, ("dns", "slow.acme.test"), type: "http-01") { _ in
        } meanwhile: {
            // The server answers while the validator waits (it runs beside the requests).
            let asked = Date()
            let directory = try await acme.est.curl([acme.directoryURL("web")])
            #expect(directory.status == 200)
            #expect(Date().timeIntervalSince(asked) < 1.5)
        }
        let seconds = Date().timeIntervalSince(started)
        #expect(Self.problem(of: slow.authorization) == "connection", "\(slow.authorization)")
        #expect((3.5..<15).contains(seconds), "\(seconds) s")
        #expect(try await acme.audit("certificate.enroll").isEmpty)
    }
}
