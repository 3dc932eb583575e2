import CA
import Codecs
import CustosTestSupport
import CustosX509
import Foundation
import MetadataStore
import OCSP
import SwiftASN1
import Testing
import X509

/// The OCSP responder over a real token and store, without HTTP: requests made by `openssl ocsp`,
/// answers that openssl verifies against the CA, statuses that follow revocation, serials never
/// issued answered unknown, and answers signed ahead served from the store.
@Suite struct OCSPResponderTests {
    struct Setup {
        let fixture: DomainFixture
        let authority: CertificateAuthority
        let responder: OCSPResponder
        let directory: String
        let serial: String
    }

    /// A root, an issuing CA, one device certificate, and the PEM files openssl needs.
    static func setup() async throws -> Setup {
        let fixture = try await DomainFixture(prefix: "ocsp")
        let authority = CertificateAuthority(signing: fixture.signing, store: fixture.store)
        _ = try await authority.create(
            .init(id: "root", subject: "CN=OCSP Root", algorithm: .ecP256),
            requester: DomainFixture.requester
        )
        _ = try await authority.create(
            .init(id: "issuing", subject: "CN=OCSP Issuing", algorithm: .ecP256, parent: "root"),
            requester: DomainFixture.requester
        )
        let directory = fixture.directory
        let csr = try OpenSSLRequests.p256(in: directory, name: "leaf", subject: "/CN=device")
        let issued = try await authority.issue(
            ca: "issuing",
            .init(csr: csr, category: .device),
            requester: DomainFixture.requester
        )
        try write([issued.record.der], "\(directory)/leaf.pem")
        try write([issued.chain[0]], "\(directory)/issuing.pem")
        try write(issued.chain, "\(directory)/chain.pem")
        let responder = OCSPResponder(authority: authority, validitySeconds: 3_600)
        return Setup(
            fixture: fixture,
            authority: authority,
            responder: responder,
            directory: directory,
            serial: Hex.encode(issued.record.serial)
        )
    }

    static func write(_ certificates: [[UInt8]], _ path: String) throws {
        try Data(certificates.map { PEM.encode($0) + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
    }

    /// An OCSP request from openssl for `certificate` arguments (`-cert FILE` or `-serial 0x…`).
    static func request(_ setup: Setup, _ certificate: [String], nonce: Bool = false) throws -> [UInt8] {
        let path = "\(setup.directory)/request-\(UUID()).der"
        let made = try runCommand(
            "openssl",
            ["ocsp", "-issuer", "\(setup.directory)/issuing.pem"] + certificate + [
                nonce ? "-nonce" : "-no_nonce", "-reqout", path,
            ]
        )
        guard made.status == 0 else { throw OCSPTestFailure("openssl ocsp: \(made.stderr)") }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// What openssl makes of an answer: its verification and the status line. With `request`, the
    /// answer's nonce must be the request's.
    static func check(_ setup: Setup, _ answer: OCSPResponder.Answer, _ certificate: [String], request: [UInt8]? = nil)
        throws -> CommandResult
    {
        let path = "\(setup.directory)/response-\(UUID()).der"
        try Data(answer.der).write(to: URL(fileURLWithPath: path))
        var subject = ["-no_nonce", "-issuer", "\(setup.directory)/issuing.pem"] + certificate
        if let request {
            // openssl checks the nonce against the request it reads, and then prints the status as text.
            subject = ["-reqin", "\(path).request", "-resp_text", "-verify_other", "\(setup.directory)/issuing.pem"]
            try Data(request).write(to: URL(fileURLWithPath: "\(path).request"))
        }
        return try runCommand(
            "openssl",
            ["ocsp", "-respin", path, "-CAfile", "\(setup.directory)/chain.pem"] + subject
        )
    }

    @Test func statusesFollowIssuanceAndRevocationAndOpenSSLVerifiesEveryAnswer() async throws {
        let setup = try await Self.setup()
        let leaf = ["-cert", "\(setup.directory)/leaf.pem"]
        let withNonce = try Self.request(setup, leaf, nonce: true)
        let good = await setup.responder.respond(to: withNonce)
        #expect(good.status == .successful && good.source == .live && !good.cacheable)
        let goodText = try Self.check(setup, good, leaf, request: withNonce)
        #expect(
            goodText.stdout.contains("Cert Status: good") && goodText.stderr.contains("Response verify OK"),
            "\(goodText)"
        )

        let never = ["-serial", "0x7a7a7a7a7a7a"]
        let unknown = await setup.responder.respond(to: try Self.request(setup, never))
        let unknownText = try Self.check(setup, unknown, never)
        #expect(unknownText.stdout.contains(": unknown"), "\(unknownText)")

        _ = try await setup.authority.revoke(
            ca: "issuing",
            serial: setup.serial,
            reason: .keyCompromise,
            requester: DomainFixture.requester
        )
        let revoked = await setup.responder.respond(to: try Self.request(setup, leaf))
        let revokedText = try Self.check(setup, revoked, leaf)
        #expect(
            revokedText.stdout.contains(": revoked") && revokedText.stdout.contains("keyCompromise"),
            "\(revokedText)"
        )

        #expect(await setup.responder.respond(to: [0x30, 0x03, 0x02, 0x01, 0x00]).status == .malformedRequest)
    }

    @Test func aRefreshPassSignsAheadAndTheStoredAnswerIsServedUntilARevocation() async throws {
        let setup = try await Self.setup()
        let leaf = ["-cert", "\(setup.directory)/leaf.pem"]
        let request = try Self.request(setup, leaf)
        // The index of issuers is built by the first lookup or pass; then nothing is stored yet.
        _ = await setup.responder.presignedAnswer(to: request)
        let pass = await setup.responder.refresh(limit: 100)
        #expect(pass.signed >= 2 && pass.failure == nil, "\(pass)")
        let stored = try #require(await setup.responder.presignedAnswer(to: request))
        #expect(stored.source == .presigned && stored.cacheable)
        let storedText = try Self.check(setup, stored, leaf)
        #expect(
            storedText.stdout.contains(": good") && storedText.stderr.contains("Response verify OK"),
            "\(storedText)"
        )
        // A revocation deletes the stored answer in its own transaction.
        _ = try await setup.authority.revoke(
            ca: "issuing",
            serial: setup.serial,
            reason: .superseded,
            requester: DomainFixture.requester
        )
        #expect(await setup.responder.presignedAnswer(to: request) == nil)
        let live = await setup.responder.respond(to: request)
        let liveText = try Self.check(setup, live, leaf)
        #expect(live.source == .live && liveText.stdout.contains(": revoked"), "\(liveText)")
    }
}

struct OCSPTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
