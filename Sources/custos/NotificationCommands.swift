import APIModels
import ArgumentParser
import Foundation

/// `custos notify`: channels, rules and the outbox's delivery state (through the API).
struct NotifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify",
        abstract: "Notification channels and rules, and the delivery state of notifications (through the API).",
        subcommands: [
            NotifyChannelCommand.self, NotifyRuleCommand.self, ListNotificationsCommand.self,
            ShowNotificationCommand.self, RetryNotificationCommand.self,
        ]
    )
}

/// `custos notify channel set|list|delete`.
struct NotifyChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Webhooks and mail relays notifications go through.",
        subcommands: [SetChannelCommand.self, ListChannelsCommand.self, DeleteChannelCommand.self]
    )
}

/// `custos notify rule set|list|delete`.
struct NotifyRuleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rule",
        abstract: "What notifies whom: audited events, expiry stages, scheduled reports.",
        subcommands: [SetRuleCommand.self, ListRulesCommand.self, DeleteRuleCommand.self]
    )
}

/// A JSON body from a file, or standard input for `-`.
private func jsonBody(_ path: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    return try readFile(path, what: "the JSON file")
}

struct SetChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract:
            "Create or replace a channel from JSON: {\"webhook\": {…}} or {\"mail\": {…}} (see the API reference)."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The channel's name.") var name: String
    @Option(help: "The channel as JSON (a file, or - for standard input).") var file: String

    func run() async throws {
        let answer = try await api.client().send(
            "PUT",
            "/v1/notification-channels/\(APIClient.segment(name))",
            body: try jsonBody(file),
            contentType: "application/json"
        )
        let channel = try JSONDecoder().decode(NotificationChannelBody.self, from: answer)
        say(
            "set channel \(name): "
                + (channel.webhook.map { "webhook \($0.url)" } ?? "mail via \(channel.mail?.host ?? "")")
        )
    }
}

struct ListChannelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List channels as JSON.")
    @OptionGroup var api: APIOptions

    func run() async throws {
        try printJSON(try await api.client().call("GET", "/v1/notification-channels", as: NotificationChannelList.self))
    }
}

struct DeleteChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove a channel no rule uses.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The channel's name.") var name: String

    func run() async throws {
        _ = try await api.client().send("DELETE", "/v1/notification-channels/\(APIClient.segment(name))")
        say("deleted channel \(name)")
    }
}

struct SetRuleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Create or replace a rule from JSON: a channel and one of events, expiry and report.",
        discussion: """
            Example: {"channel": "ops", "events": ["certificate.revoke"]}; {"channel": "mail", "expiry": \
            {"stages": [{"name": "first", "daysBefore": 30, "recipients": ["owner"]}]}}.
            """
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The rule's name.") var name: String
    @Option(help: "The rule as JSON (a file, or - for standard input).") var file: String

    func run() async throws {
        let answer = try await api.client().send(
            "PUT",
            "/v1/notification-rules/\(APIClient.segment(name))",
            body: try jsonBody(file),
            contentType: "application/json"
        )
        let rule = try JSONDecoder().decode(NotificationRuleBody.self, from: answer)
        let kind =
            rule.events.map { "events \($0.joined(separator: ", "))" } ?? (rule.expiry != nil ? "expiry" : "report")
        say("set rule \(name): \(kind) through \(rule.channel)")
    }
}

struct ListRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List rules as JSON.")
    @OptionGroup var api: APIOptions

    func run() async throws {
        try printJSON(try await api.client().call("GET", "/v1/notification-rules", as: NotificationRuleList.self))
    }
}

struct DeleteRuleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove a rule.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The rule's name.") var name: String

    func run() async throws {
        _ = try await api.client().send("DELETE", "/v1/notification-rules/\(APIClient.segment(name))")
        say("deleted rule \(name)")
    }
}

struct ListNotificationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "Notifications and their delivery state, one per line (oldest first).",
        discussion: "Columns: id, state, attempts, rule, recipient, subject, and the last error if any."
    )
    @OptionGroup var api: APIOptions
    @Option(help: "pending, delivered or failed.") var state: String?
    @Option(help: "Only this rule's.") var rule: String?
    @Option(help: "At most this many (1-1000).") var limit = 100
    @Flag(help: "Print the API's JSON.") var json = false

    func run() async throws {
        var query = ["limit=\(limit)"]
        if let state { query.append("state=\(APIClient.segment(state))") }
        if let rule { query.append("rule=\(APIClient.segment(rule))") }
        let page = try await api.client().call(
            "GET",
            "/v1/notifications?" + query.joined(separator: "&"),
            as: NotificationPage.self
        )
        if json { return try printJSON(page) }
        for item in page.notifications {
            var line = [item.id, item.state, String(item.attempts), item.rule, item.recipient, item.subject]
            if let error = item.lastError { line.append(error) }
            print(line.joined(separator: "\t"))
        }
    }
}

struct ShowNotificationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One notification as JSON.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The notification's id.") var id: String

    func run() async throws {
        try printJSON(
            try await api.client().call("GET", "/v1/notifications/\(APIClient.segment(id))", as: NotificationView.self)
        )
    }
}

struct RetryNotificationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Make a failed notification due again, with a fresh set of attempts."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The notification's id.") var id: String

    func run() async throws {
        let view = try await api.client().call(
            "POST",
            "/v1/notifications/\(APIClient.segment(id))/retry",
            as: NotificationView.self
        )
        say("notification \(view.id) is \(view.state) again")
    }
}
