import ArgumentParser
import Ceremony
import Codecs
import Foundation
import HSM
import MetadataStore
import PKCS11

#if canImport(Glibc)
    import Glibc
#endif

/// `custos ceremony …`: key ceremonies for security officers, usually on an offline machine attached
/// to the HSM. Everything a ceremony will do is in one reviewed YAML file.
struct CeremonyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ceremony",
        abstract: "Key ceremonies: check, run, PIN shares, transcripts.",
        subcommands: [
            CheckCeremonyCommand.self, RunCeremonyCommand.self, SplitPINCommand.self, ReshareCommand.self,
            VerifyTranscriptCommand.self,
        ]
    )
}

struct CheckCeremonyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a ceremony file without touching the HSM and print what it will do."
    )
    @Argument(help: "The ceremony file (YAML).") var file: String
    @Option(help: "Directory of HSM profiles that override the built-in ones (default: $CUSTOS_PROFILES_DIR).")
    var profilesDir: String?

    func run() throws {
        let config = try CeremonyConfig.load(file: file)
        // The profile is resolved here as `run` will resolve it, so a wrong name fails before the ceremony.
        let profile: HSMProfile
        do {
            profile = try HSMProfile.load(named: config.hsm.profile, directory: ProfileOptions.directory(profilesDir))
        } catch { throw CLIError("\(file): hsm.profile: \(error)") }
        print("ceremony file \(file) is valid")
        print("  HSM profile \(profile.name): \(profile.vendor) \(profile.product)")
        for line in CeremonyPlan.describe(config) { print("  " + line) }
    }
}

struct RunCeremonyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a ceremony: PIN from the officers' shares, key in the HSM, outputs, signed transcript."
    )
    @Argument(help: "The ceremony file (YAML).") var file: String
    @Option(help: "Directory of HSM profiles that override the built-in ones (default: $CUSTOS_PROFILES_DIR).")
    var profilesDir: String?
    @Option(help: "A Custos data directory whose audit log receives the ceremony's steps (optional).")
    var auditDataDir: String?

    func run() async throws {
        let config = try CeremonyConfig.load(file: file)
        for line in CeremonyPlan.describe(config) { say(line) }
        // The PIN is put together (and every share checked) before any HSM call.
        var pin = try readPIN(config)
        defer { for index in pin.indices { pin[index] = 0 } }
        let runner = CeremonyRunner(config: config, profilesDirectory: ProfileOptions.directory(profilesDir)) {
            say($0)
        }
        let object =
            "ceremony/\(config.type.rawValue)/" + Hex.encode(config.sha256.prefix(8))
        do {
            let transcript = try await runner.run(pin: pin)
            try await audit(
                transcript.steps.map { ("ceremony.\($0.step)", "\($0.time): \($0.outcome)") }
                    + [
                        (
                            "ceremony.complete",
                            "officers \(config.officers.joined(separator: ", ")); transcript "
                                + config.outputs.transcript
                        )
                    ],
                object: object
            )
        } catch {
            try? await audit([("ceremony.failed", "\(error)")], object: object)
            throw error
        }
        say("ceremony complete")
    }

    /// Appends the ceremony's steps to the audit log of `--audit-data-dir`, when given.
    private func audit(_ events: [(String, String)], object: String) async throws {
        guard let auditDataDir else { return }
        let (store, writer) = try await DataDirectoryOption.parse(["--data-dir", auditDataDir]).openBackend()
        defer { writer.shutdown() }
        try await store.write { txn in
            for (action, outcome) in events {
                _ = try txn.appendAudit(AuditEvent(actor: "ceremony", action: action, object: object, outcome: outcome))
            }
        }
        say("\(events.count) events appended to the audit log in \(auditDataDir)")
    }

    private func readPIN(_ config: CeremonyConfig) throws -> [UInt8] {
        if let path = config.hsm.pinFile {
            say("WARNING: PIN from a file (\(path)); use shares for a production ceremony")
            return try readPasswordFile(path)
        }
        var shares: [PINShare] = []
        if let files = config.hsm.pinShares {
            for path in files {
                let text = String(decoding: try readFile(path, what: "the share file"), as: UTF8.self)
                do { shares.append(try PINShare(text: text)) } catch { throw CLIError("\(path): \(error)") }
            }
        } else {
            // Typed at the terminal without echo, one officer after the other, until the threshold.
            repeat {
                let text = try readHidden("share \(shares.count + 1): ")
                shares.append(try PINShare(text: text))
            } while shares.count < (shares.first?.threshold ?? 2)
        }
        return try PINSharing.combine(shares)
    }
}

/// The plan `check` prints and `run` announces.
enum CeremonyPlan {
    static func describe(_ config: CeremonyConfig) -> [String] {
        var lines = [
            "type \(config.type.rawValue), officers: \(config.officers.joined(separator: ", "))",
            "token \(config.hsm.token) (profile \(config.hsm.profile)), PIN from "
                + (config.hsm.pinShares.map { "\($0.count) share files" }
                    ?? (config.hsm.pinPrompt == true ? "shares typed at the prompt" : "a PIN file")),
        ]
        if let key = config.key {
            lines.append(
                "generate \(key.algorithm) key \"\(key.label)\""
                    + (key.id.map { " with id \($0)" } ?? " with a random id from the HSM")
                    + "; refuse if the label or id exists"
            )
        }
        if let issuer = config.issuer, let certificate = config.certificate {
            lines.append(
                "sign a \(config.type.rawValue) certificate for "
                    + (certificate.subject ?? "the subject of \(config.subjectKey?.certificate ?? "")") + " ("
                    + (config.subjectKey?.csr.map { "key of CSR \($0)" }
                        ?? config.subjectKey?.publicKey.map { "public key \($0)" }
                        ?? "key of \(config.subjectKey?.certificate ?? "")")
                    + "), \(certificate.validityDays) days, with key \(issuer.label) of \(issuer.certificate)"
            )
        } else if let certificate = config.certificate {
            lines.append(
                "self-sign a root certificate for \(certificate.subject ?? ""), \(certificate.validityDays) days"
                    + (certificate.pathLength.map { ", path length \($0)" } ?? "")
            )
        }
        if let crl = config.crl, let issuer = config.issuer {
            lines.append(
                "sign CRL number \(crl.number) with key \(issuer.label) of \(issuer.certificate): \(crl.revoked.count) "
                    + "revoked, next update in \(crl.nextUpdateDays) days"
            )
        }
        if let request = config.request {
            lines.append("sign a CSR for \(request.subject) with the new key, for an external parent")
        }
        let outputs = [
            config.outputs.publicKey, config.outputs.certificate, config.outputs.csr, config.outputs.transcript,
        ]
        for path in outputs.compactMap({ $0 }) {
            lines.append("write \(path) (new file)")
        }
        lines.append("sign the transcript with audit key \(config.hsm.auditKey ?? "custos-ceremony-audit")")
        return lines
    }
}

struct SplitPINCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "split-pin",
        abstract: "Split the token's user PIN into N shares of which M reconstruct it."
    )
    @Option(help: "M: shares needed.") var threshold: Int
    @Option(help: "N: shares made.") var shares: Int
    @Option(help: "File holding the PIN (its first line).") var pinFile: String
    @Option(help: "Directory for the share files (share-1.txt … , mode 0600, never overwritten).") var outDir: String

    func run() throws {
        var pin = try readPasswordFile(pinFile)
        defer { for index in pin.indices { pin[index] = 0 } }
        try writeShares(try PINSharing.split(pin, threshold: threshold, count: shares, random: systemRandom), outDir)
        say("\(shares) shares written to \(outDir); any \(threshold) of them reconstruct the PIN")
    }
}

struct ReshareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reshare",
        abstract: "New M-of-N shares of the same PIN from enough old shares (the PIN does not change)."
    )
    @Option(help: "The new M.") var threshold: Int
    @Option(help: "The new N.") var shares: Int
    @Option(help: "Directory for the new share files.") var outDir: String
    @Argument(help: "Old share files (at least their threshold).") var old: [String]

    func run() throws {
        let parsed = try old.map { path in
            do {
                return try PINShare(text: String(decoding: try readFile(path, what: "the share file"), as: UTF8.self))
            } catch let error as CeremonyError { throw CLIError("\(path): \(error)") }
        }
        var pin = try PINSharing.combine(parsed)
        defer { for index in pin.indices { pin[index] = 0 } }
        try writeShares(try PINSharing.split(pin, threshold: threshold, count: shares, random: systemRandom), outDir)
        say(
            "\(shares) new shares written to \(outDir) (\(threshold) of \(shares)); the old shares still work until destroyed"
        )
    }
}

struct VerifyTranscriptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-transcript",
        abstract: "Check a ceremony transcript's signature (and, when given, which audit key made it)."
    )
    @Argument(help: "The transcript (JSON).") var file: String
    @Option(help: "The audit key's SubjectPublicKeyInfo SHA-256 (hex) recorded at the ceremony.") var auditKey: String?

    func run() throws {
        let fingerprint = try SignedTranscript.verify(file: file, expectedAuditKey: auditKey)
        print("transcript \(file) verifies; signed by audit key \(fingerprint)")
        if auditKey == nil {
            print("compare that fingerprint with the one recorded at the ceremony, or pass --audit-key")
        }
    }
}

/// Share coefficients from the operating system's CSPRNG (`getrandom`).
private func systemRandom(_ count: Int) throws -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
}

private func writeShares(_ shares: [PINShare], _ directory: String) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for share in shares {
        try ExclusiveFile.write(
            Array((share.description + "\n").utf8),
            to: "\(directory)/share-\(share.x).txt",
            mode: 0o600
        )
    }
}

/// A line typed at the terminal without echo.
private func readHidden(_ prompt: String) throws -> String {
    let tty = open("/dev/tty", O_RDWR)
    guard tty >= 0 else { throw CLIError("no terminal to ask for shares; list share files in hsm.pinShares") }
    defer { close(tty) }
    var saved = termios()
    tcgetattr(tty, &saved)
    var quiet = saved
    quiet.c_lflag &= ~tcflag_t(ECHO)
    tcsetattr(tty, TCSANOW, &quiet)
    defer { tcsetattr(tty, TCSANOW, &saved) }
    _ = prompt.withCString { Glibc.write(tty, $0, strlen($0)) }
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while read(tty, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
    _ = Glibc.write(tty, "\n", 1)
    return String(decoding: line, as: UTF8.self)
}
