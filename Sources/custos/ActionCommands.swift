import APIModels
import ArgumentParser
import Foundation

/// `custos action`: triggered actions (through the API).
struct ActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "action",
        abstract: "Triggered actions: bulk revocations an external system sets off with a trigger credential.",
        subcommands: [SetActionCommand.self, ListActionsCommand.self, RunActionCommand.self, DeleteActionCommand.self]
    )
}

struct SetActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Create or replace an action from JSON.",
        discussion: """
            Example: {"revoke": {"ca": "line", "reason": "keyCompromise", "metadata": {"batch": "{batch}"}, \
            "parameters": ["batch"], "maxCertificates": 500}}
            """
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The action's name.") var name: String
    @Option(help: "The action as JSON (a file, or - for standard input).") var file: String

    func run() async throws {
        let body =
            file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try readFile(file, what: "the JSON file")
        let answer = try await api.client().send(
            "PUT",
            "/v1/actions/\(APIClient.segment(name))",
            body: body,
            contentType: "application/json"
        )
        let action = try JSONDecoder().decode(ActionBody.self, from: answer)
        say(
            "set action \(name): revoke at \(action.revoke.ca), at most \(action.revoke.maxCertificates ?? 0) certificates"
        )
    }
}

struct ListActionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List actions as JSON.")
    @OptionGroup var api: APIOptions

    func run() async throws { try printJSON(try await api.client().call("GET", "/v1/actions", as: ActionList.self)) }
}

struct RunActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an action: --param name=value for each of its parameters; --dry-run only counts."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The action's name.") var name: String
    @Option(name: .customLong("param"), help: "A parameter as name=value (repeatable).") var parameters: [String] = []
    @Flag(help: "Count the matching certificates, revoke none.") var dryRun = false

    func run() async throws {
        var values: [String: String] = [:]
        for pair in parameters {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--param takes name=value, not \(pair)")
            }
            values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        let view = try await api.client().call(
            "POST",
            "/v1/actions/\(APIClient.segment(name))/run",
            body: RunActionBody(parameters: values, dryRun: dryRun),
            as: ActionRunView.self
        )
        say(
            dryRun
                ? "\(view.matched) certificates match; none revoked (dry run)"
                : "revoked \(view.revoked.count) certificates"
        )
        for serial in view.revoked { print(serial) }
    }
}

struct DeleteActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove an action.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The action's name.") var name: String

    func run() async throws {
        _ = try await api.client().send("DELETE", "/v1/actions/\(APIClient.segment(name))")
        say("deleted action \(name)")
    }
}
