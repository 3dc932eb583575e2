import ArgumentParser
import Foundation
import HSM
import PKCS11

/// `custos hsm …`: inspect HSMs and profiles.
struct HSMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hsm",
        abstract: "Inspect HSM tokens and profiles.",
        subcommands: [ProbeCommand.self, CheckProfileCommand.self]
    )
}

/// `custos hsm probe`: reads a live token and prints a profile draft.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Read a live token and print an HSM profile draft (YAML)."
    )

    @Option(help: "PKCS#11 module path.")
    var module: String

    @Option(help: "Label of the token to probe.")
    var token: String

    @OptionGroup var pin: PINOptions

    @Option(help: "User type for the login check: user, so, or a vendor type in hex (0x80000001).")
    var userType = "user"

    func run() throws {
        guard let type = HSMProfile.LoginSettings.userType(named: userType) else {
            throw ValidationError("--user-type must be user, so, or a hex vendor type")
        }
        let profile = try HSMProbe.probe(
            modulePath: module,
            tokenLabel: token,
            pin: try pin.source?.read(),
            userType: type
        )
        print("# Profile draft from `custos hsm probe` — review, name it, and add sources before committing.")
        print(try profile.yaml(), terminator: "")
    }
}

/// `custos hsm check-profile`: validates profile files.
struct CheckProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-profile",
        abstract: "Parse and validate HSM profile files."
    )

    @Argument(help: "Profile files.")
    var files: [String]

    func run() throws {
        var failed = false
        for file in files {
            do {
                let profile = try HSMProfile.load(file: file)
                print("ok: \(file) (\(profile.vendor) \(profile.product))")
            } catch {
                failed = true
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
        }
        if failed { throw ExitCode.failure }
    }
}
