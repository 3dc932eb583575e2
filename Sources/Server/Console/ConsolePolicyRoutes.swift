import CA
import Console
import Foundation
import Hummingbird
import MetadataStore

/// `/ui/policies`: the issuance policy a CA applies to a category, its rules, where it comes from, and
/// for administrators and officers its JSON to change, refused with the API's message next to it.
struct ConsolePolicyRoutes {
    let site: ConsoleSite
    let authority: CertificateAuthority
    /// The largest policy document the form takes.
    static let maxDocumentBytes = 64 * 1024

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("policies", use: show)
        group.post("policies", use: save)
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let parameters = request.uri.queryParameters
        let (ca, category) = try await choice(parameters.get("ca"), parameters.get("category"), context)
        let notice =
            parameters.get("saved") != nil ? ConsoleText.words(ConsoleSite.language(request))["policySaved"] : nil
        let policy = try await authority.policy(ca: ca ?? "", category: category)
        return try await page(
            request,
            context,
            ca: ca,
            category: category,
            document: ConsoleTable.json(policy),
            notice: notice,
            error: nil,
            status: .ok
        )
    }

    @Sendable func save(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let form = context.console?.form ?? [:]
        let (ca, category) = try await choice(form["ca"], form["category"], context)
        let document = form["document"] ?? ""
        do {
            guard document.utf8.count <= Self.maxDocumentBytes else {
                throw APIError.badRequest("invalid_input", "the policy is longer than \(Self.maxDocumentBytes) bytes")
            }
            let policy: IssuancePolicy
            do {
                policy = try JSONDecoder().decode(IssuancePolicy.self, from: Data(document.utf8))
            } catch let error as DecodingError {
                throw APIError.badRequest(
                    "invalid_body",
                    JSONBody.describe(error).replacingOccurrences(of: "the body", with: "the policy")
                )
            }
            try await authority.setPolicy(policy, ca: ca, category: category, requester: context.requester)
        } catch {
            let apiError = try ConsoleCertificateActions.refusal(error)
            return try await page(
                request,
                context,
                ca: ca,
                category: category,
                document: document,
                notice: nil,
                error: apiError.message,
                status: apiError.status
            )
        }
        return ConsoleSite.redirect(
            "/ui/policies?"
                + ConsoleCertificateRoutes.queryString(["ca": ca ?? "*", "category": category.rawValue, "saved": "1"])
        )
    }

    /// The CA (nil: the policy for every CA, `*`) and category asked for, checked against the credential.
    private func choice(_ caText: String?, _ categoryText: String?, _ context: CustosRequestContext) async throws
        -> (String?, CertificateCategory)
    {
        let categoryName = categoryText.flatMap { $0.isEmpty ? nil : $0 } ?? CertificateCategory.device.rawValue
        guard let category = CertificateCategory(rawValue: categoryName) else {
            throw APIError.badRequest("invalid_input", "unknown category \"\(categoryName)\"")
        }
        let cas = try await authority.list(after: nil, limit: .max, tenant: context.tenantLimit)
        let chosen =
            caText.flatMap { $0.isEmpty ? nil : $0 } ?? (context.tenantLimit == nil ? "*" : cas.first?.id ?? "")
        if chosen == "*" {
            if let limit = context.tenantLimit {
                throw APIError.forbidden("this credential is limited to tenant \"\(limit)\": choose one of its CAs")
            }
            return (nil, category)
        }
        try context.requireTenant(try await authority.authority(chosen).record.tenant)
        return (chosen, category)
    }

    private func page(
        _ request: Request,
        _ context: CustosRequestContext,
        ca: String?,
        category: CertificateCategory,
        document: String,
        notice: String?,
        error: String?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        let cas = try await authority.list(after: nil, limit: .max, tenant: context.tenantLimit)
        var options: [[String: Any]] =
            context.tenantLimit == nil ? [["id": "*", "label": words["allCAs"] ?? "*", "selected": ca == nil]] : []
        options += cas.map { ["id": $0.id, "label": $0.id, "selected": $0.id == ca] }
        let (own, shared) = try await authority.store.read { reader in
            (
                try ca.map { try reader.policy(ca: $0, category: category.rawValue) } ?? nil,
                try reader.policy(ca: nil, category: category.rawValue)
            )
        }
        let source = own != nil ? "policyOwn" : shared != nil ? "policyShared" : "policyBuiltIn"
        let policy = try await authority.policy(ca: ca ?? "", category: category)
        let role = context.credential?.role
        var values: [String: Any] = [
            "caOptions": options,
            "categories": CertificateCategory.allCases.map {
                ["value": $0.rawValue, "selected": $0 == category] as [String: Any]
            },
            "chosenCA": ca ?? "*", "chosenCategory": category.rawValue,
            "source": words[source] ?? source,
            "rules": Self.rules(policy, words),
            "document": document,
            "canEdit": role == .admin || role == .officer,
        ]
        if let notice { values["notice"] = notice }
        if let error { values["error"] = error }
        return site.page(
            .policy,
            request,
            context,
            title: "policies",
            current: "policies",
            status: status,
            values: values
        )
    }

    /// The policy's rules as the page lists them.
    static func rules(_ policy: IssuancePolicy, _ words: [String: String]) -> [[String: String]] {
        func list(_ items: [String]) -> String { items.isEmpty ? "–" : items.joined(separator: ", ") }
        func patterns(_ items: [String: String]) -> String {
            items.isEmpty
                ? "–" : items.sorted { $0.key < $1.key }.map { "\($0.key) ~ \($0.value)" }.joined(separator: "; ")
        }
        let yes = words["yes"] ?? "yes"
        let no = words["no"] ?? "no"
        return [
            ("rule.validityDays", "\(policy.validityDays) / \(policy.maxValidityDays)"),
            ("rule.keyAlgorithms", list(policy.allowedKeyAlgorithms)),
            ("rule.requiredSubject", list(policy.requiredSubjectAttributes)),
            ("rule.allowedSubject", patterns(policy.allowedSubjectAttributes)),
            ("rule.sanTypes", patterns(policy.allowedSANTypes)),
            ("rule.requireSAN", policy.requireSAN ? yes : no),
            ("rule.commonNameInSAN", policy.commonNameInSAN ? yes : no),
            ("rule.keyReuse", policy.allowPublicKeyReuse ? yes : no),
            ("rule.extendedKeyUsage", policy.extendedKeyUsage.map(list) ?? (words["rule.categoryDefault"] ?? "")),
        ].map { ["label": words[$0.0] ?? $0.0, "value": $0.1] }
    }
}
