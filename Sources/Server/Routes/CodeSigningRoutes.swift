import APIModels
import Access
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import MetadataStore
import PKCS11
import Signing

/// `POST /v1/codesign/{name}`: a detached CMS SignedData (DER) over an artifact.
///
/// Two ways to send the artifact:
/// - JSON: `{"digest": base64, "hash": "sha256"}` or `{"data": base64}`, plus optional `scheme`,
///   `saltLength` and `timestamp` (`none`, `preferred`, `required`).
/// - `Content-Type: application/octet-stream`: the artifact itself, hashed as it streams in (never
///   held whole), up to `maxArtifactBytes`; the same options as query parameters.
struct CodeSigningRoutes {
    let signer: CodeSigner
    let maxBodyBytes: Int
    let maxArtifactBytes: Int
    let rateLimiter: RateLimiter?

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/codesign/:name", use: codeSign)
    }

    @Sendable func codeSign(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        try context.requireSigner(for: name)
        let streamed = request.headers[.contentType]?.lowercased().hasPrefix("application/octet-stream") == true
        let options: CodeSignBody
        if streamed {
            let query = request.uri.queryParameters
            options = CodeSignBody(
                hash: query["hash"].map(String.init),
                scheme: query["scheme"].map(String.init),
                saltLength: try query["saltLength"].map { text in
                    guard let value = Int(text) else {
                        throw APIError.badRequest("invalid_input", "saltLength must be an integer")
                    }
                    return value
                },
                timestamp: query["timestamp"].map(String.init)
            )
        } else {
            options = try await JSONBody.decode(CodeSignBody.self, from: request, limit: maxBodyBytes)
        }
        let policy = try options.timestamp.map { text in
            guard let policy = CodeSigner.TimestampPolicy(rawValue: text) else {
                throw APIError.badRequest("invalid_input", "timestamp must be none, preferred or required")
            }
            return policy
        }
        try rateLimiter?.admit(1, context)
        let plan = try await signer.plan(
            name,
            parameters: SignatureParameters(
                scheme: options.scheme,
                hash: options.hash,
                saltLength: options.saltLength
            )
        )
        let digest: [UInt8]
        if streamed {
            digest = try await streamedDigest(request.body, plan.digestAlgorithm)
        } else {
            switch (options.digest, options.data) {
            case (let encoded?, nil): digest = try JSONBody.base64(encoded, field: "digest")
            case (nil, let data?): digest = plan.digestAlgorithm.digest(try JSONBody.base64(data, field: "data"))
            case (nil, nil):
                throw APIError.badRequest(
                    "invalid_input",
                    "give either digest or data, or send the artifact as application/octet-stream"
                )
            case (_?, _?): throw APIError.badRequest("invalid_input", "give either digest or data, not both")
            }
        }
        let result = try await signer.sign(
            plan,
            digest: digest,
            timestamp: policy,
            requester: context.requester
        )
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/pkcs7-signature",
                .contentDisposition: "attachment; filename=\"\(name).p7s\"",
                CodeSigningRoutes.timestamped: result.timestamped ? "true" : "false",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: result.cms))
        )
    }

    /// `Custos-Timestamped: true|false`: whether the signature carries an RFC 3161 timestamp.
    static let timestamped = HTTPField.Name("Custos-Timestamped")!

    /// Hashes the body as it arrives, refusing more than `maxArtifactBytes`.
    private func streamedDigest(_ body: RequestBody, _ hash: HashAlgorithm) async throws -> [UInt8] {
        var digest = IncrementalDigest(hash)
        var total = 0
        var iterator = body.makeAsyncIterator()
        while true {
            let next: ByteBuffer?
            // A body that breaks off (malformed chunked encoding, a connection gone mid-body) is the
            // client's error, not the server's.
            do { next = try await iterator.next() } catch let error as APIError { throw error } catch {
                throw APIError.badRequest("invalid_body", "the artifact cannot be read: \(error)")
            }
            guard let buffer = next else { break }
            total += buffer.readableBytes
            guard total <= maxArtifactBytes else {
                throw APIError(
                    .contentTooLarge,
                    "body_too_large",
                    "the artifact exceeds \(maxArtifactBytes) bytes; send its digest instead"
                )
            }
            buffer.withUnsafeReadableBytes { digest.update($0) }
        }
        guard total > 0 else { throw APIError.badRequest("invalid_input", "the artifact is empty") }
        return digest.finalize()
    }
}

/// SHA-2 over data that arrives in pieces.
private struct IncrementalDigest {
    private enum State {
        case sha256(SHA256), sha384(SHA384), sha512(SHA512)
    }
    private var state: State

    init(_ hash: HashAlgorithm) {
        switch hash {
        case .sha256: state = .sha256(SHA256())
        case .sha384: state = .sha384(SHA384())
        case .sha512: state = .sha512(SHA512())
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .sha256(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha256(hasher)
        case .sha384(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha384(hasher)
        case .sha512(var hasher):
            hasher.update(bufferPointer: bytes)
            state = .sha512(hasher)
        }
    }

    func finalize() -> [UInt8] {
        switch state {
        case .sha256(let hasher): Array(hasher.finalize())
        case .sha384(let hasher): Array(hasher.finalize())
        case .sha512(let hasher): Array(hasher.finalize())
        }
    }
}
