/// A PKCS#11 return value (`CK_RV`), with the names of the codes Custos meets.
///
/// PKCS#11 v2.40 section 5.1 lists the codes; vendor codes start at `0x80000000`.
public struct ReturnValue: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt

    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let ok = ReturnValue(rawValue: 0x0000)
    public static let cancel = ReturnValue(rawValue: 0x0001)
    public static let hostMemory = ReturnValue(rawValue: 0x0002)
    public static let slotIDInvalid = ReturnValue(rawValue: 0x0003)
    public static let generalError = ReturnValue(rawValue: 0x0005)
    public static let functionFailed = ReturnValue(rawValue: 0x0006)
    public static let argumentsBad = ReturnValue(rawValue: 0x0007)
    public static let attributeReadOnly = ReturnValue(rawValue: 0x0010)
    public static let attributeSensitive = ReturnValue(rawValue: 0x0011)
    public static let attributeTypeInvalid = ReturnValue(rawValue: 0x0012)
    public static let attributeValueInvalid = ReturnValue(rawValue: 0x0013)
    public static let dataInvalid = ReturnValue(rawValue: 0x0020)
    public static let dataLenRange = ReturnValue(rawValue: 0x0021)
    public static let deviceError = ReturnValue(rawValue: 0x0030)
    public static let deviceMemory = ReturnValue(rawValue: 0x0031)
    public static let deviceRemoved = ReturnValue(rawValue: 0x0032)
    public static let encryptedDataInvalid = ReturnValue(rawValue: 0x0040)
    public static let encryptedDataLenRange = ReturnValue(rawValue: 0x0041)
    public static let functionCanceled = ReturnValue(rawValue: 0x0050)
    public static let functionNotSupported = ReturnValue(rawValue: 0x0054)
    public static let keyHandleInvalid = ReturnValue(rawValue: 0x0060)
    public static let keySizeRange = ReturnValue(rawValue: 0x0062)
    public static let keyTypeInconsistent = ReturnValue(rawValue: 0x0063)
    public static let keyFunctionNotPermitted = ReturnValue(rawValue: 0x0068)
    public static let keyNotWrappable = ReturnValue(rawValue: 0x0069)
    public static let keyUnextractable = ReturnValue(rawValue: 0x006A)
    public static let mechanismInvalid = ReturnValue(rawValue: 0x0070)
    public static let mechanismParamInvalid = ReturnValue(rawValue: 0x0071)
    public static let objectHandleInvalid = ReturnValue(rawValue: 0x0082)
    public static let operationActive = ReturnValue(rawValue: 0x0090)
    public static let operationNotInitialized = ReturnValue(rawValue: 0x0091)
    public static let pinIncorrect = ReturnValue(rawValue: 0x00A0)
    public static let pinInvalid = ReturnValue(rawValue: 0x00A1)
    public static let pinLenRange = ReturnValue(rawValue: 0x00A2)
    public static let pinExpired = ReturnValue(rawValue: 0x00A3)
    public static let pinLocked = ReturnValue(rawValue: 0x00A4)
    public static let sessionClosed = ReturnValue(rawValue: 0x00B0)
    public static let sessionCount = ReturnValue(rawValue: 0x00B1)
    public static let sessionHandleInvalid = ReturnValue(rawValue: 0x00B3)
    public static let sessionParallelNotSupported = ReturnValue(rawValue: 0x00B4)
    public static let sessionReadOnly = ReturnValue(rawValue: 0x00B5)
    public static let sessionExists = ReturnValue(rawValue: 0x00B6)
    public static let sessionReadOnlyExists = ReturnValue(rawValue: 0x00B7)
    public static let sessionReadWriteSOExists = ReturnValue(rawValue: 0x00B8)
    public static let signatureInvalid = ReturnValue(rawValue: 0x00C0)
    public static let signatureLenRange = ReturnValue(rawValue: 0x00C1)
    public static let templateIncomplete = ReturnValue(rawValue: 0x00D0)
    public static let templateInconsistent = ReturnValue(rawValue: 0x00D1)
    public static let tokenNotPresent = ReturnValue(rawValue: 0x00E0)
    public static let tokenNotRecognized = ReturnValue(rawValue: 0x00E1)
    public static let tokenWriteProtected = ReturnValue(rawValue: 0x00E2)
    public static let unwrappingKeyHandleInvalid = ReturnValue(rawValue: 0x00F0)
    public static let unwrappingKeyTypeInconsistent = ReturnValue(rawValue: 0x00F2)
    public static let userAlreadyLoggedIn = ReturnValue(rawValue: 0x0100)
    public static let userNotLoggedIn = ReturnValue(rawValue: 0x0101)
    public static let userPINNotInitialized = ReturnValue(rawValue: 0x0102)
    public static let userTypeInvalid = ReturnValue(rawValue: 0x0103)
    public static let userAnotherAlreadyLoggedIn = ReturnValue(rawValue: 0x0104)
    public static let userTooManyTypes = ReturnValue(rawValue: 0x0105)
    public static let wrappedKeyInvalid = ReturnValue(rawValue: 0x0110)
    public static let wrappedKeyLenRange = ReturnValue(rawValue: 0x0112)
    public static let wrappingKeyHandleInvalid = ReturnValue(rawValue: 0x0113)
    public static let randomSeedNotSupported = ReturnValue(rawValue: 0x0120)
    public static let randomNoRNG = ReturnValue(rawValue: 0x0121)
    public static let domainParamsInvalid = ReturnValue(rawValue: 0x0130)
    public static let curveNotSupported = ReturnValue(rawValue: 0x0140)
    public static let bufferTooSmall = ReturnValue(rawValue: 0x0150)
    public static let cryptokiNotInitialized = ReturnValue(rawValue: 0x0190)
    public static let cryptokiAlreadyInitialized = ReturnValue(rawValue: 0x0191)
    public static let mutexBad = ReturnValue(rawValue: 0x01A0)
    public static let mutexNotLocked = ReturnValue(rawValue: 0x01A1)
    public static let functionRejected = ReturnValue(rawValue: 0x0200)

    private static let names: [UInt: String] = [
        0x0000: "CKR_OK", 0x0001: "CKR_CANCEL", 0x0002: "CKR_HOST_MEMORY", 0x0003: "CKR_SLOT_ID_INVALID",
        0x0005: "CKR_GENERAL_ERROR", 0x0006: "CKR_FUNCTION_FAILED", 0x0007: "CKR_ARGUMENTS_BAD",
        0x0010: "CKR_ATTRIBUTE_READ_ONLY", 0x0011: "CKR_ATTRIBUTE_SENSITIVE",
        0x0012: "CKR_ATTRIBUTE_TYPE_INVALID", 0x0013: "CKR_ATTRIBUTE_VALUE_INVALID", 0x0020: "CKR_DATA_INVALID",
        0x0021: "CKR_DATA_LEN_RANGE", 0x0030: "CKR_DEVICE_ERROR", 0x0031: "CKR_DEVICE_MEMORY",
        0x0032: "CKR_DEVICE_REMOVED", 0x0040: "CKR_ENCRYPTED_DATA_INVALID",
        0x0041: "CKR_ENCRYPTED_DATA_LEN_RANGE", 0x0050: "CKR_FUNCTION_CANCELED",
        0x0054: "CKR_FUNCTION_NOT_SUPPORTED", 0x0060: "CKR_KEY_HANDLE_INVALID", 0x0062: "CKR_KEY_SIZE_RANGE",
        0x0063: "CKR_KEY_TYPE_INCONSISTENT", 0x0068: "CKR_KEY_FUNCTION_NOT_PERMITTED",
        0x0069: "CKR_KEY_NOT_WRAPPABLE", 0x006A: "CKR_KEY_UNEXTRACTABLE", 0x0070: "CKR_MECHANISM_INVALID",
        0x0071: "CKR_MECHANISM_PARAM_INVALID", 0x0082: "CKR_OBJECT_HANDLE_INVALID",
        0x0090: "CKR_OPERATION_ACTIVE", 0x0091: "CKR_OPERATION_NOT_INITIALIZED", 0x00A0: "CKR_PIN_INCORRECT",
        0x00A1: "CKR_PIN_INVALID", 0x00A2: "CKR_PIN_LEN_RANGE", 0x00A3: "CKR_PIN_EXPIRED",
        0x00A4: "CKR_PIN_LOCKED", 0x00B0: "CKR_SESSION_CLOSED", 0x00B1: "CKR_SESSION_COUNT",
        0x00B3: "CKR_SESSION_HANDLE_INVALID", 0x00B4: "CKR_SESSION_PARALLEL_NOT_SUPPORTED",
        0x00B5: "CKR_SESSION_READ_ONLY", 0x00B6: "CKR_SESSION_EXISTS", 0x00B7: "CKR_SESSION_READ_ONLY_EXISTS",
        0x00B8: "CKR_SESSION_READ_WRITE_SO_EXISTS", 0x00C0: "CKR_SIGNATURE_INVALID",
        0x00C1: "CKR_SIGNATURE_LEN_RANGE", 0x00D0: "CKR_TEMPLATE_INCOMPLETE",
        0x00D1: "CKR_TEMPLATE_INCONSISTENT", 0x00E0: "CKR_TOKEN_NOT_PRESENT",
        0x00E1: "CKR_TOKEN_NOT_RECOGNIZED", 0x00E2: "CKR_TOKEN_WRITE_PROTECTED",
        0x00F0: "CKR_UNWRAPPING_KEY_HANDLE_INVALID", 0x00F2: "CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT",
        0x0100: "CKR_USER_ALREADY_LOGGED_IN", 0x0101: "CKR_USER_NOT_LOGGED_IN",
        0x0102: "CKR_USER_PIN_NOT_INITIALIZED", 0x0103: "CKR_USER_TYPE_INVALID",
        0x0104: "CKR_USER_ANOTHER_ALREADY_LOGGED_IN", 0x0105: "CKR_USER_TOO_MANY_TYPES",
        0x0110: "CKR_WRAPPED_KEY_INVALID", 0x0112: "CKR_WRAPPED_KEY_LEN_RANGE",
        0x0113: "CKR_WRAPPING_KEY_HANDLE_INVALID", 0x0120: "CKR_RANDOM_SEED_NOT_SUPPORTED",
        0x0121: "CKR_RANDOM_NO_RNG", 0x0130: "CKR_DOMAIN_PARAMS_INVALID", 0x0140: "CKR_CURVE_NOT_SUPPORTED",
        0x0150: "CKR_BUFFER_TOO_SMALL", 0x0190: "CKR_CRYPTOKI_NOT_INITIALIZED",
        0x0191: "CKR_CRYPTOKI_ALREADY_INITIALIZED", 0x01A0: "CKR_MUTEX_BAD", 0x01A1: "CKR_MUTEX_NOT_LOCKED",
        0x0200: "CKR_FUNCTION_REJECTED",
    ]

    /// The code's name from the specification (`CKR_SESSION_HANDLE_INVALID`), or its hex value.
    public var name: String {
        if let name = Self.names[rawValue] { return name }
        if rawValue >= 0x8000_0000 { return "CKR_VENDOR_DEFINED+0x" + String(rawValue - 0x8000_0000, radix: 16) }
        return "CKR_0x" + String(rawValue, radix: 16)
    }

    public var description: String { name }

    /// Codes after which the session is gone and must be reopened.
    public var invalidatesSession: Bool { self == .sessionHandleInvalid || self == .sessionClosed }

    /// Codes after which the session must be replaced: it is gone, or it was left with an operation in
    /// progress (a failed `C_Sign` that did not end it, against the specification) and can do nothing else.
    public var requiresNewSession: Bool { invalidatesSession || self == .operationActive }

    /// Codes after which the login must be restored or key handles found again (private objects vanish
    /// from a logged-out session, so a lost login can look like a bad handle).
    public var requiresLoginOrHandles: Bool {
        self == .userNotLoggedIn || self == .objectHandleInvalid || self == .keyHandleInvalid
    }

    /// Codes after which a session pool can repair the session, login, handles or module and try again.
    public var isRecoverable: Bool { requiresNewSession || requiresLoginOrHandles || requiresReinitialization }

    /// Codes by which the token refuses a PIN. Logging in again with the same PIN only burns PIN tries.
    public var rejectsPIN: Bool {
        self == .pinIncorrect || self == .pinInvalid || self == .pinLenRange || self == .pinLocked
            || self == .pinExpired
    }

    /// Codes after which the whole module must be finalized and initialized again.
    public var requiresReinitialization: Bool {
        self == .deviceRemoved || self == .tokenNotPresent || self == .cryptokiNotInitialized
            || self == .deviceError
    }
}
