public import PKCS11

/// Reads a live token and describes it as a profile draft: every mechanism with key sizes and
/// flags, session limits and login requirements.
public enum HSMProbe {
    /// Probes the token with `label` in the module at `modulePath`. With a PIN it also logs in, to
    /// prove the PIN and the user type work.
    public static func probe(modulePath: String, tokenLabel: String, pin: String?, userType: UserType = .user)
        throws -> HSMProfile
    {
        do {
            let module = try Module.load(path: modulePath)
            let slot = try module.slot(tokenLabel: tokenLabel)
            let token = try module.tokenInfo(slot)
            if let pin {
                let session = try module.openSession(slot)
                do {
                    try session.login(userType, pin: pin)
                } catch {
                    if let rv = error.returnValue, rv.rejectsPIN {
                        throw HSMError(
                            code: .loginFailed,
                            reason: "token \"\(tokenLabel)\" rejected the PIN (\(rv.name))",
                            underlying: error
                        )
                    }
                    throw error
                }
            }
            let info = try module.info()
            var supported: [String] = []
            var details: [String: HSMProfile.MechanismDetail] = [:]
            for type in try module.mechanisms(slot).sorted() {
                supported.append(type.name)
                let mechanism = try module.mechanismInfo(slot, type)
                details[type.name] = HSMProfile.MechanismDetail(
                    minKeySize: mechanism.minKeySize,
                    maxKeySize: mechanism.maxKeySize,
                    flags: mechanism.flags.names
                )
            }
            // Combined hash-and-sign mechanisms Custos would use if present; without them it hashes on the host.
            let wanted: [MechanismType] = [.ecdsaSHA256, .ecdsaSHA384, .ecdsaSHA512]
            let missing = wanted.filter { !supported.contains($0.name) }.map(\.name)
            let sessions = max(1, min(4, token.maxSessionCount ?? 4))
            return HSMProfile(
                name: "probed",
                vendor: info.manufacturer,
                product: "\(token.manufacturer) \(token.model)",
                source: "probe: \(info.libraryDescription) \(info.libraryVersion), Cryptoki \(info.cryptokiVersion)",
                module: .init(paths: [modulePath], environment: [:]),
                login: .init(
                    userType: userType == .user ? "user" : "0x" + String(userType.rawValue, radix: 16),
                    required: token.loginRequired,
                    pinFormat: "\(token.minPINLength)–\(token.maxPINLength) characters"
                ),
                sessions: .init(
                    maxSessions: token.maxSessionCount,
                    maxReadWriteSessions: token.maxReadWriteSessionCount,
                    idleTimeoutSeconds: nil
                ),
                mechanisms: .init(supported: supported, missing: missing, broken: [:], details: details),
                quirks: [],
                pool: .init(sessions: sessions, waitTimeoutMilliseconds: 5000, keepaliveSeconds: nil)
            )
        } catch let error as PKCS11Error {
            throw HSMError(code: .pkcs11, reason: error.description, underlying: error)
        }
    }
}
