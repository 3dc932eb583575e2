import ArgumentParser
import Foundation
import HSM

/// Where the PIN comes from. There is deliberately no option that takes the PIN itself.
struct PINOptions: ParsableArguments {
    @Option(name: .customLong("pin-file"), help: "File holding the token PIN (mode 0600).")
    var file: String?

    @Option(name: .customLong("pin-env"), help: "Environment variable holding the token PIN.")
    var environment: String?

    var source: PINSource? {
        get throws {
            switch (file, environment) {
            case (let file?, nil): .file(file)
            case (nil, let name?): .environment(name)
            case (nil, nil): nil
            default: throw ValidationError("give either --pin-file or --pin-env, not both")
            }
        }
    }
}

/// Where HSM profiles are looked up.
struct ProfileOptions: ParsableArguments {
    @Option(help: "HSM profile: a built-in name (softhsm2, thales-luna, …), a name in --profiles-dir, or a file.")
    var profile = "softhsm2"

    @Option(help: "Directory of HSM profiles that override the built-in ones (default: $CUSTOS_PROFILES_DIR).")
    var profilesDir: String?

    /// The override directory, if any; names not found there come from the profiles built into the binary.
    var directory: String? { Self.directory(profilesDir) }

    static func directory(_ option: String?) -> String? {
        option ?? ProcessInfo.processInfo.environment["CUSTOS_PROFILES_DIR"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func load() throws -> HSMProfile { try HSMProfile.load(named: profile, directory: directory) }
}

/// An error for people: printed as is, exit code 1.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes one line of `custos:` output straight to standard output, unbuffered, so that an operator
/// (or a supervising process reading a pipe) sees it at once.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data("custos: \(line)\n".utf8))
}

/// Creates a file that must not exist yet, readable only by the owner (PINs, credentials).
func writeSecretFile(_ path: String, _ contents: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
    guard descriptor >= 0 else { throw CLIError("cannot create \(path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    let bytes = Array(contents.utf8)
    guard write(descriptor, bytes, bytes.count) == bytes.count else { throw CLIError("cannot write \(path)") }
}
