import CustosTestSupport
import Foundation
import HSM
import PKCS11
import Testing

let profilesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("HSMProfiles").path

@Suite struct HSMProfileTests {
    static let expected = [
        "aws-cloudhsm", "entrust-nshield", "nitrokey-hsm", "p11-kit-proxy", "softhsm2", "thales-luna",
        "utimaco-cryptoserver", "yubihsm2",
    ]

    @Test(arguments: expected)
    func everyShippedProfileParsesStrictlyAndValidates(_ name: String) throws {
        let profile = try HSMProfile.load(named: name, directory: profilesDirectory)
        #expect(profile.name == name)
        #expect(!profile.source.isEmpty)
        #expect(profile.login.pkcs11UserType != nil)
    }

    @Test(arguments: expected)
    func everyShippedProfileIsBuiltInAsItsFileSays(_ name: String) throws {
        // The built-in text is generated from the file (make profiles); a stale copy fails here.
        let fromFile = try HSMProfile.load(file: "\(profilesDirectory)/\(name).yaml")
        #expect(try HSMProfile.load(named: name, directory: nil) == fromFile, "run make profiles")
        let files = try FileManager.default.contentsOfDirectory(atPath: profilesDirectory).filter {
            $0.hasSuffix(".yaml")
        }
        #expect(HSMProfile.builtInNames == files.map { String($0.dropLast(5)) }.sorted())
    }

    @Test func aProfilesDirectoryOverridesTheBuiltInProfileOfTheSameName() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var text = try String(contentsOfFile: "\(profilesDirectory)/softhsm2.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "vendor: ", with: "vendor: Overridden ")
        try text.write(toFile: "\(directory)/softhsm2.yaml", atomically: true, encoding: .utf8)
        try Self.minimal.write(toFile: "\(directory)/demo.yaml", atomically: true, encoding: .utf8)
        #expect(try HSMProfile.load(named: "softhsm2", directory: directory).vendor.hasPrefix("Overridden "))
        #expect(try HSMProfile.load(named: "demo", directory: directory).name == "demo")
        // Names the directory lacks still come from the binary.
        #expect(try HSMProfile.load(named: "thales-luna", directory: directory).name == "thales-luna")
        #expect(throws: HSMError.self) { try HSMProfile.load(named: "demo", directory: nil) }
        do {
            _ = try HSMProfile.load(named: "nosuch", directory: directory)
            Issue.record("an unknown profile loaded")
        } catch {
            let message = "\(error)"
            #expect(
                message.contains("no profile \"nosuch\"") && message.contains("demo, entrust-nshield"),
                "\(message)"
            )
        }
    }

    @Test func lunaUsesTheVendorCryptoUserType() throws {
        let luna = try HSMProfile.load(named: "thales-luna", directory: profilesDirectory)
        #expect(luna.login.pkcs11UserType == UserType(rawValue: 0x8000_0001))
    }

    static let minimal = """
        name: demo
        vendor: V
        product: P
        source: tests
        module: {paths: [/usr/lib/demo.so]}
        login: {userType: user, required: true}
        sessions: {maxSessions: 4, idleTimeoutSeconds: 30}
        mechanisms: {supported: [CKM_ECDSA]}
        pool: {sessions: 2, waitTimeoutMilliseconds: 1000, keepaliveSeconds: 20}
        """

    @Test func aMinimalProfileParses() throws {
        let profile = try HSMProfile.parse(Self.minimal)
        #expect(profile.sessions.maxSessions == 4)
        #expect(profile.mechanisms.supported == ["CKM_ECDSA"])
    }

    @Test(arguments: [
        ("vendorr: V", "unknown key \"vendorr\""),
        ("login: {userType: user, required: true, pinFromat: x}", "login.pinFromat: unknown key"),
        ("mechanisms: {supported: [CKM_ECDSA_SHA999]}", "unknown mechanism CKM_ECDSA_SHA999"),
        ("pool: {sessions: 8, waitTimeoutMilliseconds: 1000}", "exceeds sessions.maxSessions"),
        ("pool: {sessions: 2, waitTimeoutMilliseconds: 1000, keepaliveSeconds: 60}", "keepaliveSeconds must be below"),
        ("login: {userType: crypto, required: true}", "login.userType \"crypto\""),
        ("module: {paths: [relative/lib.so]}", "is not absolute"),
    ])
    func malformedProfilesAreRejectedWithTheReason(_ change: (String, String)) throws {
        let key = String(change.0.prefix { $0 != ":" })
        var lines = Self.minimal.split(separator: "\n").map(String.init)
        if let index = lines.firstIndex(where: { $0.hasPrefix(key + ":") }) {
            lines[index] = change.0
        } else {
            lines.append(change.0)
        }
        do {
            _ = try HSMProfile.parse(lines.joined(separator: "\n"), file: "demo.yaml")
            Issue.record("accepted: \(change.0)")
        } catch let error as HSMError {
            #expect(error.code == .invalidProfile)
            #expect(error.description.contains(change.1), "\(error)")
            #expect(error.description.contains("demo.yaml"))
        }
    }

    @Test func aMissingRequiredKeyIsNamed() {
        let text = Self.minimal.split(separator: "\n").filter { !$0.hasPrefix("source") }.joined(separator: "\n")
        #expect(throws: HSMError.self) { try HSMProfile.parse(text) }
        do { _ = try HSMProfile.parse(text) } catch { #expect("\(error)".contains("source: required key is missing")) }
    }

    @Test func softHSM2ProfileAgreesWithAProbeOfARealToken() throws {
        let environment = SoftHSMEnvironment.shared
        let token = try environment.makeToken(prefix: "probe")
        let probed = try HSMProbe.probe(modulePath: environment.modulePath, tokenLabel: token.label, pin: token.userPIN)
        let profile = try HSMProfile.load(named: "softhsm2", directory: profilesDirectory)
        #expect(Set(profile.mechanisms.supported) == Set(probed.mechanisms.supported))
        #expect(profile.mechanisms.details == probed.mechanisms.details)
        #expect(profile.mechanisms.missing == probed.mechanisms.missing)
        #expect(profile.login.required == probed.login.required)
        #expect(profile.sessions.maxSessions == probed.sessions.maxSessions)
        #expect(profile.sessions.maxReadWriteSessions == probed.sessions.maxReadWriteSessions)
        #expect(profile.module.paths.contains(environment.modulePath))
        // Every algorithm Custos generates is backed by a mechanism the profile lists.
        for algorithm in KeyAlgorithm.allCases {
            #expect(profile.mechanisms.supported.contains(algorithm.generationMechanism.name))
        }
        // A probe's draft is itself a valid profile.
        let reparsed = try HSMProfile.parse(try probed.yaml())
        #expect(reparsed.mechanisms == probed.mechanisms)
    }
}
