public import PKCS11

/// Which token a pool serves. Never a slot id: slot numbers change between runs.
public enum TokenSelector: Sendable, Hashable, CustomStringConvertible {
    case label(String)
    case serial(String)

    public var description: String {
        switch self {
        case .label(let label): "label \"\(label)\""
        case .serial(let serial): "serial \"\(serial)\""
        }
    }
}

/// Everything a session pool needs to reach and use one token.
public struct SessionPoolConfiguration: Sendable {
    /// Path of the PKCS#11 module.
    public var modulePath: String
    /// The token.
    public var token: TokenSelector
    /// The PIN, or nil for tokens that need no login. Never logged or printed.
    public var pin: String?
    /// Who logs in; some HSMs use a vendor user type.
    public var userType: UserType
    /// Sessions to open; capped by the token's own limits.
    public var sessions: Int
    /// How long a caller waits for a free session before failing with `poolTimeout`.
    public var waitTimeout: Duration
    /// Sign with `keepaliveKey` (or ask for session info, without one) on sessions idle this long.
    public var keepaliveInterval: Duration?
    /// The key the keepalive signs with.
    public var keepaliveKey: KeyReference?

    public init(
        modulePath: String,
        token: TokenSelector,
        pin: String?,
        userType: UserType = .user,
        sessions: Int = 2,
        waitTimeout: Duration = .seconds(5),
        keepaliveInterval: Duration? = nil,
        keepaliveKey: KeyReference? = nil
    ) {
        self.modulePath = modulePath
        self.token = token
        self.pin = pin
        self.userType = userType
        self.sessions = sessions
        self.waitTimeout = waitTimeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveKey = keepaliveKey
    }
}
