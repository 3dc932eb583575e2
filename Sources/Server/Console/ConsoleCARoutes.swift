import CA
import Codecs
import Console
import CustosX509
import Foundation
import Hummingbird
import MetadataStore

/// `/ui/cas`: the CA tree, a CA's details, and its certificate, chain and CRL as downloads.
struct ConsoleCARoutes {
    let site: ConsoleSite
    let authority: CertificateAuthority

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("cas", use: list)
        group.get("cas/:ca", use: show)
        group.get("cas/:ca/:file", use: file)
    }

    /// Every CA the credential may see, each under its parent.
    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let cas = try await authority.list(after: nil, limit: .max, tenant: context.tenantLimit)
        let ids = Set(cas.map(\.id))
        var children: [String: [Authority]] = [:]
        for ca in cas {
            children[ca.record.parent.flatMap { ids.contains($0) ? $0 : nil } ?? "", default: []].append(ca)
        }
        var rows: [[String: Any]] = []
        func visit(_ parent: String, depth: Int) {
            for ca in children[parent] ?? [] where rows.count < cas.count {
                rows.append([
                    "id": ca.id, "href": "/ui/cas/\(ConsoleDashboard.path(ca.id))", "subject": ca.record.subject,
                    "kind": ca.record.kind.rawValue, "state": ca.record.state.rawValue, "depth": min(depth, 4),
                    "notAfter": ca.certificate.map { ConsoleSite.time($0.notValidAfter) } ?? "–",
                ])
                visit(ca.id, depth: depth + 1)
            }
        }
        visit("", depth: 0)
        return site.page(
            .cas,
            request,
            context,
            title: "cas",
            current: "cas",
            values: ["cas": rows, "hasCas": !rows.isEmpty]
        )
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let ca = try await authority.authority(try await context.ca(authority))
        try context.requireTenant(ca.record.tenant)
        var details: [String: Any] = [
            "id": ca.id, "href": "/ui/cas/\(ConsoleDashboard.path(ca.id))", "subject": ca.record.subject,
            "kind": ca.record.kind.rawValue, "state": ca.record.state.rawValue,
            "hasCertificate": ca.certificate != nil,
            "notBefore": ca.certificate.map { ConsoleSite.time($0.notValidBefore) } ?? "–",
            "notAfter": ca.certificate.map { ConsoleSite.time($0.notValidAfter) } ?? "–",
        ]
        if let parent = ca.record.parent {
            details["parent"] = parent
            details["parentHref"] = "/ui/cas/\(ConsoleDashboard.path(parent))"
        }
        if !ca.record.tenant.isEmpty { details["tenant"] = ca.record.tenant }
        return site.page(.ca, request, context, title: ca.id, current: "cas", values: ["ca": details])
    }

    /// `certificate.pem`, `certificate.der`, `chain.pem` or `crl.der` of a CA.
    @Sendable func file(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let ca = try await authority.authority(try await context.ca(authority))
        try context.requireTenant(ca.record.tenant)
        let file = try context.parameters.require("file")
        switch file {
        case "certificate.pem", "certificate.der":
            guard let der = ca.record.certificate else {
                throw APIError(.notFound, "not_found", "CA \(ca.id) has no certificate yet")
            }
            return file.hasSuffix(".pem")
                ? site.download(
                    Array((PEM.encode(der) + "\n").utf8),
                    contentType: "application/x-pem-file",
                    filename: "\(ca.id).pem"
                )
                : site.download(der, contentType: "application/pkix-cert", filename: "\(ca.id).cer")
        case "chain.pem":
            let chain = try await authority.chain(ca.id)
            let text = try chain.map { PEM.encode(try derBytes($0)) + "\n" }.joined()
            return site.download(
                Array(text.utf8),
                contentType: "application/pem-certificate-chain",
                filename: "\(ca.id)-chain.pem"
            )
        case "crl.der":
            let crl = try await authority.crls.current(try await authority.currentCRLScope(ca.id))
            return site.download(crl.der, contentType: "application/pkix-crl", filename: "\(ca.id).crl")
        default:
            throw APIError(
                .notFound,
                "not_found",
                "a CA offers certificate.pem, certificate.der, chain.pem and crl.der"
            )
        }
    }
}
