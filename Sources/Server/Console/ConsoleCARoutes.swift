import CA
import Codecs
import Console
import CustosX509
import Foundation
import Hummingbird
import MetadataStore
import PKCS11

/// `/ui/cas`: the CA tree, a CA's details, and its certificate, chain and CRL as downloads.
struct ConsoleCARoutes {
    let site: ConsoleSite
    let authority: CertificateAuthority

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("cas", use: list)
        group.post("cas", use: create)
        group.get("cas/:ca", use: show)
        group.get("cas/:ca/:file", use: file)
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try await listPage(request, context, form: [:], error: nil, fieldErrors: [:], status: .ok)
    }

    /// Every CA the credential may see, each under its parent, and for administrators and officers the
    /// form that creates one (with what was entered and where it went wrong, after a refusal).
    private func listPage(
        _ request: Request,
        _ context: CustosRequestContext,
        form: [String: String],
        error: String?,
        fieldErrors: [String: String],
        status: HTTPResponse.Status
    ) async throws -> Response {
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
        let role = context.credential?.role
        let chosen = form["algorithm"] ?? KeyAlgorithm.ecP256.rawValue
        var values: [String: Any] = [
            "cas": rows, "hasCas": !rows.isEmpty,
            "canCreate": role == .admin || role == .officer,
            "form": form, "errors": fieldErrors,
            "algorithms": KeyAlgorithm.allCases.map {
                ["value": $0.rawValue, "selected": $0.rawValue == chosen] as [String: Any]
            },
            "parents": cas.filter {
                $0.record.kind != .trustAnchor && $0.record.kind != .upstream && $0.certificate != nil
            }
            .map { ["id": $0.id, "selected": $0.id == form["parent"]] as [String: Any] },
        ]
        if let error { values["error"] = error }
        return site.page(.cas, request, context, title: "cas", current: "cas", status: status, values: values)
    }

    /// Creates a root CA or a sub-CA of one Custos holds; its key is made in the HSM. A refusal shows next
    /// to the field it concerns (or above the form) and creates nothing.
    @Sendable func create(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let form = context.console?.form ?? [:]
        func value(_ name: String) -> String? {
            guard let text = form[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        var fieldErrors: [String: String] = [:]
        let algorithm = KeyAlgorithm(rawValue: value("algorithm") ?? "")
        if algorithm == nil { fieldErrors["algorithm"] = "choose one of the algorithms listed" }
        var validityDays: Int?
        if let text = value("validityDays") {
            validityDays = Int(text)
            if validityDays == nil { fieldErrors["validityDays"] = "validityDays is a whole number of days" }
        }
        if value("id") == nil { fieldErrors["id"] = "a CA needs a name" }
        if value("subject") == nil { fieldErrors["subject"] = "a CA needs a subject name" }
        guard fieldErrors.isEmpty, let algorithm else {
            return try await listPage(
                request,
                context,
                form: form,
                error: nil,
                fieldErrors: fieldErrors,
                status: .badRequest
            )
        }
        if let parent = value("parent") {
            do {
                try context.requireTenant(try await authority.authority(parent).record.tenant)
            } catch let error as CAError {
                let message = ObservabilityMiddleware.apiError(for: error).message
                return try await listPage(
                    request,
                    context,
                    form: form,
                    error: nil,
                    fieldErrors: ["parent": message],
                    status: .badRequest
                )
            }
        }
        do {
            let created = try await authority.create(
                .init(
                    id: value("id") ?? "",
                    subject: value("subject") ?? "",
                    algorithm: algorithm,
                    validityDays: validityDays,
                    pathLength: nil,
                    parent: value("parent"),
                    tenant: context.tenantLimit,
                    external: false
                ),
                requester: context.requester
            )
            return ConsoleSite.redirect("/ui/cas/\(ConsoleDashboard.path(created.id))?created=1")
        } catch {
            let apiError = ObservabilityMiddleware.apiError(for: error)
            guard apiError.status.code < 500, apiError.status != .forbidden else { throw error }
            let field = Self.field(of: apiError.message)
            return try await listPage(
                request,
                context,
                form: form,
                error: field == nil ? apiError.message : nil,
                fieldErrors: field.map { [$0: apiError.message] } ?? [:],
                status: apiError.status
            )
        }
    }

    /// The form field an error message of CA creation is about, if one can be told from it.
    static func field(of message: String) -> String? {
        let lowered = message.lowercased()
        if lowered.contains("validitydays") || lowered.contains("validity") { return "validityDays" }
        if lowered.contains("parent") { return "parent" }
        if lowered.contains("subject") || lowered.contains("rfc 4514") || lowered.contains("attribute") {
            return "subject"
        }
        if lowered.contains("algorithm") || lowered.contains("key type") { return "algorithm" }
        if lowered.contains("ca id") || lowered.contains("named") || lowered.contains("exists")
            || lowered.contains(" id ")
            || lowered.hasPrefix("id ")
        {
            return "id"
        }
        return nil
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
        var values: [String: Any] = ["ca": details]
        if request.uri.queryParameters.get("created") != nil {
            values["notice"] = ConsoleText.words(ConsoleSite.language(request))["caCreated"]
        }
        return site.page(.ca, request, context, title: ca.id, current: "cas", values: values)
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
