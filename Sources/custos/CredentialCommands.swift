import Access
import ArgumentParser
import Foundation
import MetadataStore
import Server
import Signing

/// `custos credential create|list|revoke`: API credentials, managed on the store directly (works while
/// the server runs: LMDB serialises writers across processes).
struct CredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credential",
        abstract: "Create, list and revoke API credentials.",
        subcommands: [CreateCredentialCommand.self, ListCredentialsCommand.self, RevokeCredentialCommand.self]
    )
}

struct CreateCredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a credential and print its bearer token (shown once, stored only as a hash)."
    )

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "admin, officer, signer, auditor, vault or trigger.")
    var role: String

    @Option(help: "For signers: key names or prefixes ending in * (comma-separated).")
    var keys: String?

    @Option(help: "For vault credentials: namespaces or prefixes ending in * (comma-separated).")
    var namespaces: String?

    @Option(help: "For triggers: the actions it may run, names or prefixes ending in * (comma-separated).")
    var actions: String?

    @Option(help: "For officers and auditors: limit the credential to the CAs of this tenant.")
    var tenant: String?

    @Option(help: "Write the token to this new file (mode 0600) instead of standard output.")
    var output: String?

    func run() async throws {
        guard let role = CredentialRecord.Role(rawValue: role) else {
            throw ValidationError("--role must be admin, officer, signer, auditor, vault or trigger")
        }
        let actionPatterns = actions.map { $0.split(separator: ",").map { String($0) } } ?? []
        if role == .trigger && actionPatterns.isEmpty { throw ValidationError("a trigger needs --actions") }
        if role != .trigger && !actionPatterns.isEmpty { throw ValidationError("--actions applies to triggers only") }
        let keyPatterns = keys.map { $0.split(separator: ",").map { String($0) } } ?? []
        let namespacePatterns = namespaces.map { $0.split(separator: ",").map { String($0) } } ?? []
        if role == .signer && keyPatterns.isEmpty { throw ValidationError("a signer needs --keys") }
        if role != .signer && !keyPatterns.isEmpty { throw ValidationError("--keys applies to signers only") }
        if role == .vault && namespacePatterns.isEmpty {
            throw ValidationError("a vault credential needs --namespaces")
        }
        if role != .vault && !namespacePatterns.isEmpty {
            throw ValidationError("--namespaces applies to vault credentials only")
        }
        let patterns = role == .vault ? namespacePatterns : role == .trigger ? actionPatterns : keyPatterns
        let (store, writer) = try await data.openBackend()
        defer { writer.shutdown() }
        let credentials = Credentials(store: store)
        let (record, secret) = try await credentials.create(
            role: role,
            keyPatterns: patterns,
            tenant: tenant,
            requester: Requester(actor: "cli/\(NSUserName())")
        )
        if let output {
            try writeSecretFile(output, secret + "\n")
            say("created \(role.rawValue) credential \(record.id); token in \(output)")
        } else {
            say("created \(role.rawValue) credential \(record.id)")
            print(secret)
        }
    }
}

struct ListCredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List credentials (never tokens).")

    @OptionGroup var data: DataDirectoryOption

    func run() async throws {
        let (store, writer) = try await data.openBackend()
        defer { writer.shutdown() }
        for record in try await Credentials(store: store).list() {
            let kind = record.role == .vault ? "namespaces" : "keys"
            let keys = record.keyPatterns.isEmpty ? "" : "\t\(kind) \(record.keyPatterns.joined(separator: ","))"
            print("\(record.id)\t\(record.role.rawValue)\t\(record.revoked ? "revoked" : "active")\(keys)")
        }
    }
}

struct RevokeCredentialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a credential.")

    @OptionGroup var data: DataDirectoryOption

    @Argument(help: "The credential's id.")
    var id: String

    func run() async throws {
        let (store, writer) = try await data.openBackend()
        defer { writer.shutdown() }
        let credentials = Credentials(store: store)
        guard try await credentials.revoke(id: id, requester: Requester(actor: "cli/\(NSUserName())")) else {
            throw CLIError("no credential has id \(id)")
        }
        say("revoked credential \(id)")
    }
}
