import Foundation
public import PKCS11
import Yams

/// What Custos knows about one HSM model: where its module lives, how to log in, its session
/// limits, which mechanisms work, template quirks and pool defaults. One YAML file per HSM in
/// `HSMProfiles/`, parsed strictly (unknown keys are errors) and validated.
public struct HSMProfile: Sendable, Hashable {
    /// Short identifier; the file is `<name>.yaml`.
    public var name: String
    /// Vendor and product.
    public var vendor: String
    public var product: String
    /// Where the facts come from (vendor documentation, version, section), or `probe` for measured ones.
    public var source: String
    public var module: ModuleSettings
    public var login: LoginSettings
    public var sessions: SessionLimits
    public var mechanisms: Mechanisms
    /// Template and behaviour quirks, one sentence each.
    public var quirks: [String]
    public var pool: PoolDefaults

    /// Where the module library is found.
    public struct ModuleSettings: Sendable, Hashable {
        /// Candidate paths, first existing wins.
        public var paths: [String]
        /// Environment variables the module reads (its configuration file and such), with what they do.
        public var environment: [String: String]
    }

    /// How Custos logs in.
    public struct LoginSettings: Sendable, Hashable {
        /// `user`, `so`, or a vendor user type as hex (`0x80000001`).
        public var userType: String
        /// Whether the token needs a login before private keys can be used.
        public var required: Bool
        /// What the PIN looks like (YubiHSM: auth-key id prefix; CloudHSM: `user:password`).
        public var pinFormat: String

        /// The PKCS#11 user type.
        public var pkcs11UserType: UserType? { Self.userType(named: userType) }

        /// Parses `user`, `so`, or a vendor user type in hex (`0x80000001`).
        public static func userType(named userType: String) -> UserType? {
            switch userType {
            case "user": .user
            case "so": .securityOfficer
            default:
                userType.hasPrefix("0x") ? UInt(userType.dropFirst(2), radix: 16).map(UserType.init(rawValue:)) : nil
            }
        }
    }

    /// Session limits; nil means the HSM sets none or the vendor documents none.
    public struct SessionLimits: Sendable, Hashable {
        public var maxSessions: Int?
        public var maxReadWriteSessions: Int?
        /// Seconds after which an idle session is closed by the HSM.
        public var idleTimeoutSeconds: Int?
    }

    /// Mechanism support.
    public struct Mechanisms: Sendable, Hashable {
        /// Mechanisms the HSM offers (names such as `CKM_ECDSA`).
        public var supported: [String]
        /// Mechanisms Custos would like but the HSM lacks, so Custos works around them (host hashing).
        public var missing: [String]
        /// Mechanisms the HSM lists but that misbehave, with the reason.
        public var broken: [String: String]
        /// Measured key sizes and flags by mechanism, as `custos hsm probe` reports them.
        public var details: [String: MechanismDetail]
    }

    /// One mechanism's key sizes and flags.
    public struct MechanismDetail: Sendable, Hashable {
        public var minKeySize: Int
        public var maxKeySize: Int
        public var flags: [String]
    }

    /// Pool settings to use unless configuration overrides them.
    public struct PoolDefaults: Sendable, Hashable {
        public var sessions: Int
        public var waitTimeoutMilliseconds: Int
        /// Keepalive interval; set below the HSM's idle timeout.
        public var keepaliveSeconds: Int?
    }
}

extension HSMProfile {
    /// Parses and validates a profile; errors name the file and the offending key.
    public static func parse(_ text: String, file: String = "profile") throws -> HSMProfile {
        let profile: HSMProfile
        do {
            profile = try YAMLDecoder().decode(HSMProfile.self, from: text)
        } catch let error as DecodingError {
            throw HSMError(code: .invalidProfile, reason: "\(file): \(error.summary)")
        } catch {
            throw HSMError(code: .invalidProfile, reason: "\(file): not valid YAML: \(error)")
        }
        let problems = profile.validate()
        guard problems.isEmpty else {
            throw HSMError(code: .invalidProfile, reason: "\(file): " + problems.joined(separator: "; "))
        }
        return profile
    }

    /// Loads a profile file.
    public static func load(file: String) throws -> HSMProfile {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw HSMError(code: .invalidProfile, reason: "cannot read profile \(file): \(error.localizedDescription)")
        }
        return try parse(text, file: file)
    }

    /// The names of the profiles built into the binary (`HSMProfiles/*.yaml` at build time).
    public static var builtInNames: [String] { BuiltInProfiles.texts.keys.sorted() }

    /// Finds a profile: a path (containing `/` or ending in `.yaml`) is loaded as a file; a name
    /// (`softhsm2`) is looked up first in `directory` when one is given (`--profiles-dir`,
    /// `CUSTOS_PROFILES_DIR`), then among the profiles built into the binary, so that it is found from
    /// any working directory.
    public static func load(named nameOrPath: String, directory: String?) throws -> HSMProfile {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") { return try load(file: nameOrPath) }
        if let directory {
            let file = "\(directory)/\(nameOrPath).yaml"
            if FileManager.default.fileExists(atPath: file) { return try load(file: file) }
        }
        if let text = BuiltInProfiles.texts[nameOrPath] {
            return try parse(text, file: "built-in profile \(nameOrPath)")
        }
        var known = Set(builtInNames)
        var searched = "the built-in profiles"
        if let directory {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            known.formUnion(files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) })
            searched = "\(directory) or " + searched
        }
        throw HSMError(
            code: .invalidProfile,
            reason: "no profile \"\(nameOrPath)\" in \(searched) (available: \(known.sorted().joined(separator: ", ")))"
        )
    }

    /// The rules a profile must follow beyond its shape.
    public func validate() -> [String] {
        var problems: [String] = []
        if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
            problems.append("name must be letters, digits and dashes")
        }
        if source.isEmpty { problems.append("source must say where the facts come from") }
        if module.paths.isEmpty { problems.append("module.paths must list at least one path") }
        for path in module.paths where !path.hasPrefix("/") { problems.append("module path \(path) is not absolute") }
        if login.pkcs11UserType == nil {
            problems.append("login.userType \"\(login.userType)\" is not user, so, or a 0x… vendor type")
        }
        let named =
            mechanisms.supported + mechanisms.missing + Array(mechanisms.broken.keys)
            + Array(mechanisms.details.keys)
        for name in named where MechanismType(name: name) == nil {
            problems.append("unknown mechanism \(name)")
        }
        for (name, detail) in mechanisms.details {
            if MechanismFlags(names: detail.flags) == nil { problems.append("mechanism \(name) has an unknown flag") }
            if detail.minKeySize > detail.maxKeySize && detail.maxKeySize != 0 {
                problems.append("mechanism \(name) has minKeySize above maxKeySize")
            }
        }
        if pool.sessions < 1 { problems.append("pool.sessions must be at least 1") }
        if let max = sessions.maxSessions, pool.sessions > max {
            problems.append("pool.sessions \(pool.sessions) exceeds sessions.maxSessions \(max)")
        }
        if pool.waitTimeoutMilliseconds < 1 { problems.append("pool.waitTimeoutMilliseconds must be positive") }
        if let keepalive = pool.keepaliveSeconds, let idle = sessions.idleTimeoutSeconds, keepalive >= idle {
            problems.append("pool.keepaliveSeconds must be below sessions.idleTimeoutSeconds")
        }
        return problems
    }

    /// The first module path that exists on this machine.
    public var installedModulePath: String? { module.paths.first { FileManager.default.fileExists(atPath: $0) } }

    /// Serialises the profile as YAML (the probe's draft).
    public func yaml() throws -> String { try YAMLEncoder().encode(self) }
}

// MARK: Strict Codable

extension HSMProfile: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, vendor, product, source, module, login, sessions, mechanisms, quirks, pool
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        vendor = try c.decode(String.self, forKey: .vendor)
        product = try c.decode(String.self, forKey: .product)
        source = try c.decode(String.self, forKey: .source)
        module = try c.decode(ModuleSettings.self, forKey: .module)
        login = try c.decode(LoginSettings.self, forKey: .login)
        sessions = try c.decode(SessionLimits.self, forKey: .sessions)
        mechanisms = try c.decode(Mechanisms.self, forKey: .mechanisms)
        quirks = try c.decodeIfPresent([String].self, forKey: .quirks) ?? []
        pool = try c.decode(PoolDefaults.self, forKey: .pool)
    }
}

extension HSMProfile.ModuleSettings: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case paths, environment }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        paths = try c.decode([String].self, forKey: .paths)
        environment = try c.decodeIfPresent([String: String].self, forKey: .environment) ?? [:]
    }
}

extension HSMProfile.LoginSettings: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case userType, required, pinFormat }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        userType = try c.decode(String.self, forKey: .userType)
        required = try c.decode(Bool.self, forKey: .required)
        pinFormat = try c.decodeIfPresent(String.self, forKey: .pinFormat) ?? ""
    }
}

extension HSMProfile.SessionLimits: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case maxSessions, maxReadWriteSessions, idleTimeoutSeconds }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxSessions = try c.decodeIfPresent(Int.self, forKey: .maxSessions)
        maxReadWriteSessions = try c.decodeIfPresent(Int.self, forKey: .maxReadWriteSessions)
        idleTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .idleTimeoutSeconds)
    }
}

extension HSMProfile.Mechanisms: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case supported, missing, broken, details }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        supported = try c.decode([String].self, forKey: .supported)
        missing = try c.decodeIfPresent([String].self, forKey: .missing) ?? []
        broken = try c.decodeIfPresent([String: String].self, forKey: .broken) ?? [:]
        details = try c.decodeIfPresent([String: HSMProfile.MechanismDetail].self, forKey: .details) ?? [:]
    }
}

extension HSMProfile.MechanismDetail: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case minKeySize, maxKeySize, flags }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        minKeySize = try c.decode(Int.self, forKey: .minKeySize)
        maxKeySize = try c.decode(Int.self, forKey: .maxKeySize)
        flags = try c.decode([String].self, forKey: .flags)
    }
}

extension HSMProfile.PoolDefaults: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable { case sessions, waitTimeoutMilliseconds, keepaliveSeconds }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sessions = try c.decode(Int.self, forKey: .sessions)
        waitTimeoutMilliseconds = try c.decode(Int.self, forKey: .waitTimeoutMilliseconds)
        keepaliveSeconds = try c.decodeIfPresent(Int.self, forKey: .keepaliveSeconds)
    }
}
