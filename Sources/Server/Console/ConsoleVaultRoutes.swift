import APIModels
import Console
import Foundation
import Hummingbird
import Vault

/// `/ui/vault`: namespaces, their secrets and each secret's versions (administrators and auditors);
/// a value is shown only to a credential that may read it, only after a click, and each reading is
/// in the audit log (`vault.secret.read`, as through the API).
struct ConsoleVaultRoutes {
    let site: ConsoleSite
    let vault: Vault
    static let pageSize = 200

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("vault", use: namespaces)
        group.get("vault/:namespace", use: secrets)
        group.get("vault/:namespace/secret", use: secret)
        group.post("vault/:namespace/reveal", use: reveal)
    }

    @Sendable func namespaces(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        let words = ConsoleText.words(ConsoleSite.language(request))
        let rows = try await vault.namespaces().map { namespace in
            [
                ConsoleTable.cell(
                    namespace.name,
                    href: "/ui/vault/\(ConsoleDashboard.path(namespace.name))",
                    mono: true
                ),
                ConsoleTable.cell(String(namespace.keks.last?.version ?? 0)),
                ConsoleTable.cell(String(namespace.keepVersions)),
                ConsoleTable.cell(ConsoleSite.time(nanoseconds: namespace.created)),
            ]
        }
        let columns = ["namespace", "kekVersion", "keepVersions", "created"].map { words[$0] ?? $0 }
        let values = ConsoleTable.listing(
            heading: words["vault"] ?? "",
            tableID: "namespaces",
            columns: columns,
            rows: rows
        )
        return site.page(.listing, request, context, title: "vault", current: "vault", values: values)
    }

    @Sendable func secrets(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        let words = ConsoleText.words(ConsoleSite.language(request))
        let name = try context.parameters.require("namespace")
        let after = request.uri.queryParameters.get("after")
        let items = try await vault.listSecrets(
            namespace: name,
            after: after,
            limit: Self.pageSize,
            includeArchived: true
        )
        let base = "/ui/vault/\(ConsoleDashboard.path(name))"
        let rows = items.map { item in
            [
                ConsoleTable.cell(
                    item.path,
                    href: "\(base)/secret?path=\(ConsoleDashboard.path(item.path))",
                    mono: true
                ),
                ConsoleTable.cell(String(item.version)), ConsoleTable.cell(String(item.size)),
                ConsoleTable.cell(ConsoleSite.time(item.created)),
                ConsoleTable.cell(item.archived ? words["archived"] ?? "" : words["active"] ?? ""),
            ]
        }
        let columns = ["secretPath", "version", "size", "created", "state"].map { words[$0] ?? $0 }
        var values = ConsoleTable.listing(
            heading: "\(words["vault"] ?? ""): \(name)",
            tableID: "secrets",
            columns: columns,
            rows: rows
        )
        if items.count == Self.pageSize, let last = items.last {
            values["nextHref"] = "\(base)?after=\(ConsoleDashboard.path(last.path))"
        }
        return site.page(.listing, request, context, title: "vault", current: "vault", values: values)
    }

    @Sendable func secret(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        let path = request.uri.queryParameters.get("path") ?? ""
        return try await secretPage(request, context, path: path, revealed: nil, status: .ok)
    }

    /// Decrypts one version in the HSM for the page (audited), and wipes the plaintext once rendered.
    @Sendable func reveal(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .auditor)
        let name = try context.parameters.require("namespace")
        guard let credential = context.credential, credential.permits(namespace: name) else {
            throw APIError.forbidden("this credential may not read the values of vault namespace \"\(name)\"")
        }
        let form = context.console?.form ?? [:]
        let path = form["path"] ?? ""
        guard let version = form["version"].flatMap(UInt64.init), version > 0 else {
            throw APIError.badRequest("invalid_input", "version must be a positive integer")
        }
        var (info, value) = try await vault.secret(
            namespace: name,
            path: path,
            version: version,
            requester: context.requester
        )
        defer { value.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
        let view = VaultSecretView(info, value: value)
        var revealed: [String: Any] = ["version": info.version, "base64": view.value ?? ""]
        if let text = view.text { revealed["text"] = text }
        return try await secretPage(request, context, path: path, revealed: revealed, status: .ok)
    }

    private func secretPage(
        _ request: Request,
        _ context: CustosRequestContext,
        path: String,
        revealed: [String: Any]?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let words = ConsoleText.words(ConsoleSite.language(request))
        let name = try context.parameters.require("namespace")
        let versions = try await vault.secretVersions(namespace: name, path: path)
        let base = "/ui/vault/\(ConsoleDashboard.path(name))"
        var values: [String: Any] = [
            "namespace": name, "path": path, "backHref": base, "revealAction": "\(base)/reveal",
            "canReveal": context.credential?.permits(namespace: name) == true,
            "versions": versions.reversed().map { version in
                [
                    "version": version.version, "created": ConsoleSite.time(version.created), "size": version.size,
                    "archived": version.archived,
                    "state": version.archived ? words["archived"] ?? "" : words["active"] ?? "",
                ] as [String: Any]
            },
        ]
        if let revealed { values["revealed"] = revealed }
        return site.page(.secret, request, context, title: "vault", current: "vault", status: status, values: values)
    }
}
