import APIModels
import ArgumentParser
import Ceremony
import Foundation

/// `custos vault …`: the secret vault through the running service's API. Secret and key values are
/// read from standard input or a file, never from arguments (they would show in `ps` and shell
/// history), and written to standard output or to a new file of mode 0600.
struct VaultCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault",
        abstract: "Vault namespaces, secrets and symmetric keys (through the API).",
        subcommands: [
            CreateNamespaceCommand.self, ListNamespacesCommand.self, RotateKEKCommand.self, PutSecretCommand.self,
            GetSecretCommand.self, ListSecretsCommand.self, SecretVersionsCommand.self, ArchiveSecretCommand.self,
            RestoreSecretCommand.self, DeleteSecretCommand.self, VaultKeyCommand.self,
        ]
    )
}

/// `/v1/vault/{namespace}/{kind}/{path}` with each path segment percent-encoded.
private func vaultPath(_ namespace: String, _ kind: String, _ path: String? = nil) -> String {
    var url = "/v1/vault/\(APIClient.segment(namespace))/\(kind)"
    if let path {
        url +=
            "/"
            + path.split(separator: "/", omittingEmptySubsequences: false).map { APIClient.segment(String($0)) }.joined(
                separator: "/"
            )
    }
    return url
}

/// A value from `--file`, or standard input without one.
private func readValue(file: String?) throws -> Data {
    if let file { return try readFile(file, what: "the value file") }
    return FileHandle.standardInput.readDataToEndOfFile()
}

/// Writes a secret to `path` (created new, mode 0600; an existing file is never overwritten) or to
/// standard output.
private func writeSecret(_ data: Data, to path: String?) throws {
    guard let path else {
        FileHandle.standardOutput.write(data)
        return
    }
    try ExclusiveFile.write(Array(data), to: path, mode: 0o600)
}

struct CreateNamespaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a namespace and its KEK in the HSM."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace (a-z 0-9 -).") var namespace: String
    @Option(help: "Versions of a secret kept (default 10).") var keepVersions: Int?
    @Option(help: "Largest secret in bytes (default 65536).") var maxSecretBytes: Int?
    @Flag(help: "Allow keys to be imported in plaintext (audited).") var allowPlaintextImport = false
    @Flag(help: "Allow keys to be exported in plaintext (audited).") var allowPlaintextExport = false

    func run() async throws {
        let body = CreateNamespaceBody(
            name: namespace,
            maxSecretBytes: maxSecretBytes,
            keepVersions: keepVersions,
            allowPlaintextImport: allowPlaintextImport,
            allowPlaintextExport: allowPlaintextExport
        )
        try printJSON(try await api.client().call("POST", "/v1/vault", body: body, as: VaultNamespaceView.self))
    }
}

struct ListNamespacesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The namespaces you may use.")
    @OptionGroup var api: APIOptions

    func run() async throws {
        let page = try await api.client().call("GET", "/v1/vault", as: VaultNamespacePage.self)
        for item in page.items { print("\(item.name)\tKEK v\(item.currentKEKVersion)") }
    }
}

struct RotateKEKCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Rotate a namespace's KEK; re-encryption runs in the background."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Flag(help: "Wait until every entry is re-encrypted, showing progress.") var wait = false

    func run() async throws {
        let client = try api.client()
        let started = try await client.call("POST", vaultPath(namespace, "rotate"), as: VaultNamespaceView.self)
        say("KEK v\(started.currentKEKVersion) is current; re-encrypting")
        guard wait else { return }
        while true {
            let state = try await client.call(
                "GET",
                "/v1/vault/\(APIClient.segment(namespace))",
                as: VaultNamespaceView.self
            )
            guard let rotation = state.rotation else {
                say("done: every entry is under KEK v\(state.currentKEKVersion)")
                return
            }
            say("\(rotation.remaining) entries left under KEK \(rotation.retiring)")
            try await Task.sleep(for: .milliseconds(500))
        }
    }
}

struct PutSecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store a new version of a secret read from standard input or --file."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The secret's path (a/b/c).") var path: String
    @Option(help: "Read the value from this file instead of standard input.") var file: String?
    @Option(help: "Metadata as key=value,key=value (default: the last version's).") var metadata: String?

    func run() async throws {
        let value = try readValue(file: file)
        let body = WriteSecretBody(
            value: value.base64EncodedString(),
            metadata: metadata == nil ? nil : try metadataPairs(metadata)
        )
        let written = try await api.client().call(
            "PUT",
            vaultPath(namespace, "secrets", path),
            body: body,
            as: VaultSecretView.self
        )
        say("\(path): version \(written.version), \(value.count) bytes")
    }
}

struct GetSecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write a secret's value to standard output or a new file."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The secret's path.") var path: String
    @Option(help: "A given version (default: the newest).") var version: Int?
    @Option(help: "Write to this new file (mode 0600) instead of standard output.") var out: String?

    func run() async throws {
        let query = version.map { "?version=\($0)" } ?? ""
        let answer = try await api.client().call(
            "GET",
            vaultPath(namespace, "secrets", path) + query,
            as: VaultSecretView.self
        )
        guard let encoded = answer.value, let value = Data(base64Encoded: encoded) else {
            throw CLIError("the answer has no value")
        }
        try writeSecret(value, to: out)
    }
}

struct ListSecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "secrets", abstract: "List secrets (no values).")
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Option(help: "Only paths starting with this.") var prefix: String?
    @Flag(help: "Archived secrets too.") var archived = false

    func run() async throws {
        let client = try api.client()
        var cursor: String?
        repeat {
            var query = "?limit=500&archived=\(archived)"
            if let prefix { query += "&prefix=\(APIClient.segment(prefix))" }
            if let cursor { query += "&cursor=\(APIClient.segment(cursor))" }
            let page = try await client.call("GET", vaultPath(namespace, "secrets") + query, as: VaultSecretPage.self)
            for item in page.items { print("\(item.path)\tv\(item.version)\(item.archived ? "\tarchived" : "")") }
            cursor = page.next
        } while cursor != nil
    }
}

struct SecretVersionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "versions", abstract: "A secret's kept versions.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The secret's path.") var path: String

    func run() async throws {
        try printJSON(
            try await api.client().call("GET", vaultPath(namespace, "versions", path), as: VaultSecretPage.self)
        )
    }
}

struct ArchiveSecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "archive", abstract: "Hide a secret (restorable).")
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The secret's path.") var path: String

    func run() async throws {
        _ = try await api.client().call("POST", vaultPath(namespace, "archive", path), as: VaultSecretView.self)
        say("\(path) archived")
    }
}

struct RestoreSecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Bring an archived secret back.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The secret's path.") var path: String

    func run() async throws {
        _ = try await api.client().call("POST", vaultPath(namespace, "restore", path), as: VaultSecretView.self)
        say("\(path) restored")
    }
}

struct DeleteSecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Destroy a secret: every version's ciphertext is removed."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The secret's path.") var path: String

    func run() async throws {
        let answer = try await api.client().call(
            "DELETE",
            vaultPath(namespace, "secrets", path),
            as: DestroyedVersions.self
        )
        say("\(path): \(answer.destroyedVersions) versions destroyed")
    }
}

struct VaultKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Symmetric keys: generated in the HSM, stored wrapped, exported wrapped.",
        subcommands: [
            GenerateVaultKeyCommand.self, ImportVaultKeyCommand.self, ExportVaultKeyCommand.self,
            ListVaultKeysCommand.self, DeleteVaultKeyCommand.self, TransportKeyCommand.self,
        ]
    )
}

struct GenerateVaultKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Generate a key in the HSM.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The key's name.") var name: String
    @Option(help: "aes-128, aes-192, aes-256, hmac-sha256, hmac-sha384, hmac-sha512, secret-N.") var type: String
    @Option(help: "Metadata as key=value,key=value.") var metadata: String?

    func run() async throws {
        let body = CreateVaultKeyBody(type: type, metadata: try metadataPairs(metadata))
        try printJSON(
            try await api.client().call("POST", vaultPath(namespace, "keys", name), body: body, as: VaultKeyView.self)
        )
    }
}

struct ImportVaultKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a key (raw bytes) from standard input or --file: wrapped, or plaintext where allowed."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The key's name.") var name: String
    @Option(help: "The key's type.") var type: String
    @Option(help: "Read the key from this file instead of standard input.") var file: String?
    @Option(help: "The input is wrapped under: rsa (the namespace's transport key) or an AES key's name.")
    var transport: String?
    @Option(help: "With --transport rsa: sha1, sha256, sha384 or sha512 (default sha256).") var oaepHash: String?
    @Option(help: "Metadata as key=value,key=value.") var metadata: String?

    func run() async throws {
        let material = try readValue(file: file)
        var body = CreateVaultKeyBody(type: type, metadata: try metadataPairs(metadata))
        if let transport {
            body.wrapped = material.base64EncodedString()
            body.transport = transport
            body.oaepHash = oaepHash
        } else {
            body.value = material.base64EncodedString()
        }
        try printJSON(
            try await api.client().call("POST", vaultPath(namespace, "keys", name), body: body, as: VaultKeyView.self)
        )
    }
}

struct ExportVaultKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export a key wrapped under an RSA public key or an AES key, or in plaintext where allowed."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The key's name.") var name: String
    @Option(help: "The recipient's RSA public key (PEM file): RSA-OAEP.") var rsaPublicKey: String?
    @Option(help: "With --rsa-public-key: sha1, sha256, sha384 or sha512 (default sha256).") var oaepHash: String?
    @Option(help: "An AES key of the namespace to wrap under (RFC 5649).") var transportKey: String?
    @Flag(help: "The key's value in plaintext (only where the namespace allows it).") var plaintext = false
    @Option(help: "Write the raw bytes to this new file (mode 0600) instead of standard output.") var out: String?

    func run() async throws {
        var body = ExportVaultKeyBody(transportKey: transportKey, plaintext: plaintext ? true : nil)
        if let rsaPublicKey {
            body.rsaPublicKey = String(decoding: try readFile(rsaPublicKey, what: "the RSA public key"), as: UTF8.self)
            body.oaepHash = oaepHash
        }
        guard [rsaPublicKey != nil, transportKey != nil, plaintext].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --rsa-public-key, --transport-key, --plaintext")
        }
        let answer = try await api.client().call(
            "POST",
            vaultPath(namespace, "keys", name) + "/export",
            body: body,
            as: ExportedVaultKey.self
        )
        guard let encoded = answer.wrapped ?? answer.value, let bytes = Data(base64Encoded: encoded)
        else { throw CLIError("the answer has no key") }
        try writeSecret(bytes, to: out)
    }
}

struct ListVaultKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List keys (no values).")
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String

    func run() async throws {
        let client = try api.client()
        var cursor: String?
        repeat {
            let query = "?limit=500" + (cursor.map { "&cursor=\(APIClient.segment($0))" } ?? "")
            let page = try await client.call("GET", vaultPath(namespace, "keys") + query, as: VaultKeyPage.self)
            for item in page.items { print("\(item.name)\t\(item.type)\t\(item.origin)") }
            cursor = page.next
        } while cursor != nil
    }
}

struct DeleteVaultKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Destroy a key.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Argument(help: "The key's name.") var name: String

    func run() async throws {
        _ = try await api.client().send("DELETE", vaultPath(namespace, "keys", name))
        say("key \(name) destroyed")
    }
}

struct TransportKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport-key",
        abstract: "The namespace's RSA transport public key (PEM) that senders wrap keys under."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The namespace.") var namespace: String
    @Flag(help: "Create it in the HSM first.") var create = false

    func run() async throws {
        let answer = try await api.client().call(
            create ? "POST" : "GET",
            vaultPath(namespace, "transport-key"),
            as: TransportKeyView.self
        )
        print(answer.publicKey, terminator: "")
    }
}
