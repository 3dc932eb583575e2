import APIModels
import CA
import Codecs
import CustosX509
import Hummingbird
import MetadataStore
import X509

/// `/v1/cas/{ca}/certificates`: issue from CSRs, one or a batch at a time; read and renew issued
/// certificates.
struct IssuanceRoutes {
    let authority: CertificateAuthority
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/cas/:ca/certificates", use: issue)
        group.post("v1/cas/:ca/certificates/batch", use: issueBatch)
        group.get("v1/cas/:ca/certificates/:serial", use: show)
        group.post("v1/cas/:ca/certificates/:serial/renew", use: renew)
    }

    @Sendable func issue(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        let body = try await JSONBody.decode(IssueBody.self, from: request, limit: maxBodyBytes)
        let issued = try await authority.issue(ca: ca, try Self.issueRequest(body), requester: context.requester)
        return CertificateAnswer(issued.record, chain: issued.chain).response(status: .created)
    }

    /// Up to `maxBatchRequests` CSRs: each bad one is answered in its place with the error it would get
    /// alone, the good ones are issued together.
    @Sendable func issueBatch(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        let body = try await JSONBody.decode(IssueBatchBody.self, from: request, limit: maxBodyBytes)
        guard (1...CertificateAuthority.maxBatchRequests).contains(body.requests.count) else {
            throw APIError.badRequest(
                "invalid_input",
                "requests: from 1 to \(CertificateAuthority.maxBatchRequests) in one batch, not \(body.requests.count)"
            )
        }
        // A request the route itself refuses (unknown category, no PEM CSR) fails alone, like one
        // the CA refuses.
        var items = [BatchIssuanceView.Item?](repeating: nil, count: body.requests.count)
        var accepted: [(index: Int, request: CertificateAuthority.IssueRequest)] = []
        for (index, item) in body.requests.enumerated() {
            do throws(APIError) {
                accepted.append((index, try Self.issueRequest(item)))
            } catch {
                items[index] = .failed(code: error.code, message: error.message)
            }
        }
        let chain = try await authority.chain(ca).map { try derBytes($0) }
        if !accepted.isEmpty {
            let results = try await authority.issueBatch(ca: ca, accepted.map(\.request), requester: context.requester)
            for ((index, _), result) in zip(accepted, results) {
                switch result {
                case .success(let issued): items[index] = .issued(CertificateAnswer(issued.record, chain: nil))
                case .failure(let error):
                    let answer = APIError.from(error)
                    items[index] = .failed(code: answer.code, message: answer.message)
                }
            }
        }
        return BatchIssuanceView(
            ca: ca,
            chain: chain,
            results: items.map { $0 ?? .failed(code: "internal_error", message: "not processed") }
        ).response()
    }

    /// An issued certificate as JSON, or with `format` as PEM, DER or PKCS#7 (with `chain=true`, its chain).
    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let ca = try await context.ca(authority)
        let record = try await authority.certificate(ca: ca, serial: try context.parameters.require("serial"))
        let format = request.uri.queryParameters.get("format") ?? "json"
        guard format != "json" else {
            return CertificateAnswer(record, chain: nil).response()
        }
        return try await CertificateResponses.certificates(
            [try Certificate(derEncoded: record.der)] + authority.chain(ca),
            format: format,
            leafOnly: request.uri.queryParameters.get("chain") != "true"
        )
    }

    @Sendable func renew(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(authority)
        let body = try await JSONBody.decode(RenewCertificateBody.self, from: request, limit: maxBodyBytes)
        let renewed = try await authority.renewCertificate(
            ca: ca,
            serial: try context.parameters.require("serial"),
            csr: try body.csr.map { text throws(APIError) in try Self.csrDER(text) },
            validityDays: body.validityDays,
            requester: context.requester
        )
        return CertificateAnswer(renewed.record, chain: renewed.chain).response(status: .created)
    }

    /// An issuance request from its JSON body: a known category and a PEM CSR.
    static func issueRequest(_ body: IssueBody) throws(APIError) -> CertificateAuthority.IssueRequest {
        guard let category = CertificateCategory(rawValue: body.category) else {
            throw APIError.badRequest(
                "invalid_input",
                "unknown category \"\(body.category)\"; one of "
                    + CertificateCategory.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        return .init(
            csr: try csrDER(body.csr),
            category: category,
            validityDays: body.validityDays,
            metadata: body.metadata ?? [:]
        )
    }

    /// A CSR given as PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`).
    static func csrDER(_ text: String) throws(APIError) -> [UInt8] {
        let block: PEM.Block
        do { block = try PEM.block(text) } catch {
            throw APIError.badRequest("invalid_csr", "csr is not a PEM certificate request: \(error)")
        }
        guard block.label == "CERTIFICATE REQUEST" || block.label == "NEW CERTIFICATE REQUEST" else {
            throw APIError.badRequest("invalid_csr", "csr is a PEM \(block.label), not a CERTIFICATE REQUEST")
        }
        return block.der
    }
}

/// Issuance bodies are read by `FlatJSON` when they have its shape (see `JSONBody.decode`).
extension IssueBody: FlatJSONDecodable {
    init?(flat members: [String: FlatJSON.Value]) {
        guard case .string(let csr) = members["csr"], case .string(let category) = members["category"] else {
            return nil
        }
        let validityDays: Int?
        switch members["validityDays"] {
        case nil, .null: validityDays = nil
        case .integer(let days): validityDays = days
        default: return nil
        }
        let metadata: [String: String]?
        switch members["metadata"] {
        case nil, .null: metadata = nil
        case .strings(let pairs): metadata = pairs
        default: return nil
        }
        self.init(csr: csr, category: category, validityDays: validityDays, metadata: metadata)
    }
}
