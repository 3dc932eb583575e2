import CA
import Hummingbird
import MetadataStore

extension CustosRequestContext {
    /// Who asks, as the audit log records it: the credential and this request's id.
    var requester: Requester { Requester(actor: actor, requestID: id) }

    /// The `{ca}` of the path, once the credential may act on it: a credential limited to a tenant
    /// reaches only that tenant's CAs (and not the shared `*` policies).
    func ca(_ authority: CertificateAuthority) async throws -> String {
        let id = try parameters.require("ca")
        guard let limit = tenantLimit else { return id }
        guard id != "*" else { throw APIError.forbidden("this credential is limited to tenant \"\(limit)\"") }
        // An unknown CA is reported as such by the route itself.
        if let record = try? await authority.authority(id).record { try requireTenant(record.tenant) }
        return id
    }
}

/// Query and path parameters that several resources share.
enum RouteParameters {
    /// `?limit=`: 1 to 1000, 100 when absent.
    static func limit(_ request: Request) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return 100 }
        guard let limit = Int(text), (1...1000).contains(limit) else {
            throw APIError.badRequest("invalid_input", "limit must be an integer from 1 to 1000")
        }
        return limit
    }

    /// `metadata.KEY=VALUE` query parameters as a dictionary.
    static func metadata(_ request: Request) -> [String: String] {
        var metadata: [String: String] = [:]
        for (name, value) in request.uri.queryParameters where name.hasPrefix("metadata.") {
            metadata[String(name.dropFirst(9))] = String(value)
        }
        return metadata
    }

    /// A certificate category named in a path (404 when there is none of that name).
    static func category(_ text: String) throws(APIError) -> CertificateCategory {
        guard let category = CertificateCategory(rawValue: text) else {
            throw APIError(
                .notFound,
                "unknown_category",
                "no category \"\(text)\"; one of "
                    + CertificateCategory.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        return category
    }
}
