internal import CPKCS11

/// `CK_TOKEN_INFO`: what a token says about itself.
public struct TokenInfo: Sendable, Hashable {
    public var label: String
    public var manufacturer: String
    public var model: String
    public var serialNumber: String
    public var flags: UInt
    /// `ulMaxSessionCount`; nil when the token reports it as effectively infinite or unavailable.
    public var maxSessionCount: Int?
    public var sessionCount: Int?
    /// `ulMaxRwSessionCount`; nil as above.
    public var maxReadWriteSessionCount: Int?
    public var minPINLength: Int
    public var maxPINLength: Int

    init(_ info: CK_TOKEN_INFO) {
        label = paddedString(info.label)
        manufacturer = paddedString(info.manufacturerID)
        model = paddedString(info.model)
        serialNumber = paddedString(info.serialNumber)
        flags = info.flags
        maxSessionCount = Self.count(info.ulMaxSessionCount)
        sessionCount = Self.count(info.ulSessionCount)
        maxReadWriteSessionCount = Self.count(info.ulMaxRwSessionCount)
        minPINLength = Int(info.ulMinPinLen)
        maxPINLength = Int(info.ulMaxPinLen)
    }

    // CK_EFFECTIVELY_INFINITE is 0 and CK_UNAVAILABLE_INFORMATION is ~0: neither is a limit.
    private static func count(_ value: CK_ULONG) -> Int? {
        value == 0 || value == CK_ULONG.max ? nil : Int(value)
    }

    /// The token must be logged into before private objects can be used (`CKF_LOGIN_REQUIRED`).
    public var loginRequired: Bool { flags & 0x0000_0004 != 0 }
    /// The user PIN has been set (`CKF_USER_PIN_INITIALIZED`).
    public var userPINInitialized: Bool { flags & 0x0000_0008 != 0 }
    /// The token has been initialised (`CKF_TOKEN_INITIALIZED`).
    public var isInitialized: Bool { flags & 0x0000_0400 != 0 }
    /// The token has a random number generator (`CKF_RNG`).
    public var hasRNG: Bool { flags & 0x0000_0001 != 0 }
    /// PINs are entered on the device, not passed in (`CKF_PROTECTED_AUTHENTICATION_PATH`).
    public var protectedAuthenticationPath: Bool { flags & 0x0000_0100 != 0 }
    /// The user PIN is locked after too many failures (`CKF_USER_PIN_LOCKED`).
    public var userPINLocked: Bool { flags & 0x0004_0000 != 0 }
}
