import APIModels
import Access
import Console
import Hummingbird
import Signing

/// `/ui/keys`: the signing keys in the HSM and, for each, the signer credentials that may use it.
struct ConsoleKeyRoutes {
    let site: ConsoleSite
    let signing: SigningService
    let credentials: Credentials

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("keys", use: list)
        group.get("keys/:name", use: show)
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let words = ConsoleText.words(ConsoleSite.language(request))
        let keys = await signing.keys.list(after: nil, limit: .max)
        let rows = keys.map { key in
            [
                ConsoleTable.cell(key.name, href: "/ui/keys/\(ConsoleDashboard.path(key.name))", mono: true),
                ConsoleTable.cell(key.algorithm.rawValue), ConsoleTable.cell(key.state.rawValue),
                ConsoleTable.cell(ConsoleSite.time(key.created)),
                ConsoleTable.cell(key.certificateChain.isEmpty ? "–" : words["yes"] ?? ""),
            ]
        }
        let columns = ["keyName", "algorithm", "state", "created", "hasCertificate"].map { words[$0] ?? $0 }
        return site.page(
            .listing,
            request,
            context,
            title: "keys",
            current: "keys",
            values: ConsoleTable.listing(heading: words["keys"] ?? "", tableID: "keys", columns: columns, rows: rows)
        )
    }

    /// A key's details and the signer credentials whose patterns name it.
    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let words = ConsoleText.words(ConsoleSite.language(request))
        let key = try await signing.keys.key(try context.parameters.require("name"))
        let signers = try await credentials.list().filter { $0.permits(key: key.name) && !$0.revoked }
        let view = KeyView(key)
        let values: [String: Any] = [
            "heading": "\(words["key"] ?? "") \(key.name)",
            "fields": [
                ("algorithm", key.algorithm.rawValue), ("state", key.state.rawValue),
                ("created", ConsoleSite.time(key.created)), ("token", key.token), ("keyID", view.keyId),
            ].map { ["label": words[$0.0] ?? $0.0, "value": $0.1] },
            "related": [
                "title": words["signingCredentials"] ?? "",
                "columns": ["ID", words["scope"] ?? "", words["tenant"] ?? "", words["created"] ?? ""],
                "rows": signers.map { credential in
                    [
                        "cells": [
                            ["text": credential.id], ["text": credential.keyPatterns.joined(separator: ", ")],
                            ["text": credential.tenant ?? "–"],
                            ["text": ConsoleSite.time(nanoseconds: credential.created)],
                        ]
                    ]
                },
                "hasRows": !signers.isEmpty,
            ] as [String: Any],
            "json": ConsoleTable.json(view),
        ]
        return site.page(.record, request, context, title: "keys", current: "keys", values: values)
    }
}
