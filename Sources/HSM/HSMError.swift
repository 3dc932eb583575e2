public import PKCS11

/// An error from the HSM layer: the pool, profiles, key references, configuration.
public struct HSMError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private var name: String
        private init(_ name: String) { self.name = name }
        /// No session became free within the pool's wait timeout.
        public static let poolTimeout = Code("pool timeout")
        /// The pool is shut down or was never started.
        public static let poolShutDown = Code("pool shut down")
        /// The token rejected the PIN; Custos does not retry, to save the token's PIN tries.
        public static let loginFailed = Code("login failed")
        /// A profile file is malformed or breaks a rule.
        public static let invalidProfile = Code("invalid profile")
        /// Configuration is missing or inconsistent.
        public static let invalidConfiguration = Code("invalid configuration")
        /// A key reference names no object on the token.
        public static let keyNotFound = Code("key not found")
        /// A PKCS#11 call failed and recovery could not help.
        public static let pkcs11 = Code("PKCS#11 error")
        /// The token cannot do what was asked (a mechanism or a use of one it lacks).
        public static let unsupported = Code("unsupported by the token")
        public var description: String { name }
    }

    public var code: Code
    public var reason: String
    /// The PKCS#11 failure behind this error, if any.
    public var underlying: PKCS11Error?

    public init(code: Code, reason: String, underlying: PKCS11Error? = nil) {
        self.code = code
        self.reason = reason
        self.underlying = underlying
    }

    public var description: String { "\(code): \(reason)" }
}

/// The `CK_RV` behind `error`, whether it is a `PKCS11Error` or an `HSMError` wrapping one.
public func returnValue(of error: any Error) -> ReturnValue? {
    ((error as? PKCS11Error) ?? (error as? HSMError)?.underlying)?.returnValue
}
