import APIModels
import Console
import Enrollment
import Hummingbird

/// `/ui/profiles`: the enrollment profiles a credential may see, and one profile with its endpoints.
struct ConsoleProfileRoutes {
    let site: ConsoleSite
    let enrollment: EnrollmentService

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.get("profiles", use: list)
        group.get("profiles/:profile", use: show)
    }

    @Sendable func list(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let words = ConsoleText.words(ConsoleSite.language(request))
        var rows: [[[String: Any]]] = []
        for profile in try await enrollment.profiles(after: nil, limit: .max) {
            guard (try? await context.requireTenant(of: profile, enrollment: enrollment)) != nil else { continue }
            rows.append([
                ConsoleTable.cell(profile.id, href: "/ui/profiles/\(ConsoleDashboard.path(profile.id))", mono: true),
                ConsoleTable.cell(profile.ca), ConsoleTable.cell(profile.category.rawValue),
                ConsoleTable.cell(profile.protocols.map(\.rawValue).joined(separator: ", ")),
                ConsoleTable.cell(profile.approval.rawValue), ConsoleTable.cell(profile.description ?? ""),
            ])
        }
        let columns = ["profile", "ca", "category", "protocols", "approvalMode", "description"].map { words[$0] ?? $0 }
        return site.page(
            .listing,
            request,
            context,
            title: "profiles",
            current: "profiles",
            values: ConsoleTable.listing(
                heading: words["profiles"] ?? "",
                tableID: "profiles",
                columns: columns,
                rows: rows,
                intro: words["profilesIntro"]
            )
        )
    }

    @Sendable func show(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer, .auditor)
        let words = ConsoleText.words(ConsoleSite.language(request))
        let profile = try await enrollment.profile(try context.parameters.require("profile"))
        try await context.requireTenant(of: profile, enrollment: enrollment)
        let view = EnrollmentProfileView(profile)
        let fields: [(String, String)] = [
            ("ca", profile.ca), ("category", profile.category.rawValue),
            ("protocols", profile.protocols.map(\.rawValue).joined(separator: ", ")),
            ("approvalMode", profile.approval.rawValue),
            ("validityDays", profile.validityDays.map(String.init) ?? "–"),
            ("subjectTemplate", profile.subjectTemplate ?? "–"), ("description", profile.description ?? "–"),
            ("endpoints", view.endpoints.joined(separator: " ")),
        ]
        let values: [String: Any] = [
            "heading": "\(words["profile"] ?? "") \(profile.id)",
            "fields": fields.map { ["label": words[$0.0] ?? $0.0, "value": $0.1] },
            "json": ConsoleTable.json(view),
        ]
        return site.page(.record, request, context, title: "profiles", current: "profiles", values: values)
    }
}
