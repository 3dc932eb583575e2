import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import SwiftASN1
import Testing

/// The OCSP responder over real HTTP, asked by `openssl ocsp`, by curl (GET) and by Python's
/// `cryptography` as a relying party, and linted with pkilint's `lint_ocsp_response`.
@Suite(.serialized, .stopsServers) struct OCSPRouteTests {
    /// A new ECDSA P-256 root `ca` and a device certificate "leaf" it issued over the API: the leaf's
    /// serial and the paths of both certificates' PEM files in `directory`.
    func rootAndLeaf(_ server: ServerFixture, _ ca: String, _ subject: String, in directory: String) async throws
        -> (serial: String, leafPath: String, rootPath: String)
    {
        try await CARouteTests().createCA(server, id: ca, algorithm: "ec-p256", subject: subject)
        let issued = try await issueDevice(server, ca: ca, "leaf", in: directory)
        let leafPath = try writeFile(directory, "leaf.pem", Data((issued["certificate"] as! String).utf8))
        let rootPath = try writeFile(
            directory,
            "root.pem",
            try await server.request("GET", "/v1/cas/\(ca)/certificate", token: server.adminToken).body
        )
        return (issued["serial"] as! String, leafPath, rootPath)
    }

    /// Writes `openssl ocsp`'s request (no nonce) for the leaf to `path`.
    func makeRequest(_ leafPath: String, _ rootPath: String, to path: String) throws {
        let made = try runCommand(
            "openssl",
            ["ocsp", "-issuer", rootPath, "-cert", leafPath, "-no_nonce", "-reqout", path]
        )
        try #require(made.status == 0, "\(made.stderr)")
    }

    /// Issues a device certificate named `name` from `ca` over the API; returns the answer's JSON.
    @discardableResult

    func issueDevice(_ server: ServerFixture, ca: String, _ name: String, in directory: String) async throws
        -> [String: Any]
    {
        let csr = try makeCSR(directory, name: name, newkey: CARouteTests.leafKeys[0].newkey, subject: "/CN=\(name)")
        let issued = try await server.request(
            "POST",
            "/v1/cas/\(ca)/certificates",
            token: server.adminToken,
            json: ["csr": csr, "category": "device"]
        )
        try #require(issued.status == 201, "\(issued.text)")
        return issued.json
    }

    func presignedCount(_ server: ServerFixture) async throws -> Int {
        let metrics = try await server.request("GET", "/metrics", token: server.adminToken)
        let line = metrics.text.split(separator: "\n").first {
            $0.hasPrefix("custos_ocsp_responses_total") && $0.contains(#"source="presigned""#)
                && $0.contains(#"status="successful""#)
        }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }
}
