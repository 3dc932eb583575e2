/// An error from the PKCS#11 layer: a failed `C_*` call, or a problem found before any call.
public struct PKCS11Error: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure this is; extensible without breaking callers that switch on it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case callFailed = "call failed"
            case moduleNotLoadable = "module not loadable"
            case tokenNotFound = "token not found"
            case objectNotFound = "object not found"
            case invalidArgument = "invalid argument"
            case unexpectedValue = "unexpected value"
            case unsupported = "unsupported"
        }
        private var base: Base
        /// A `C_*` function returned something other than `CKR_OK`; `returnValue` says what.
        public static let callFailed = Code(base: .callFailed)
        /// The module file could not be opened or is not a PKCS#11 module.
        public static let moduleNotLoadable = Code(base: .moduleNotLoadable)
        /// No token carries the requested label or serial number.
        public static let tokenNotFound = Code(base: .tokenNotFound)
        /// No object matches a search that needed one.
        public static let objectNotFound = Code(base: .objectNotFound)
        /// The caller passed something the layer refuses before calling the module.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// The module returned data the layer cannot interpret.
        public static let unexpectedValue = Code(base: .unexpectedValue)
        /// The token or this layer does not support the requested operation.
        public static let unsupported = Code(base: .unsupported)
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The `CK_RV` for `callFailed`.
    public var returnValue: ReturnValue?
    /// The PKCS#11 function that failed (`C_Sign`), where one did.
    public var function: String?
    /// A sentence for people.
    public var reason: String

    public init(code: Code, returnValue: ReturnValue? = nil, function: String? = nil, reason: String) {
        self.code = code
        self.returnValue = returnValue
        self.function = function
        self.reason = reason
    }

    /// The error for a `C_*` call that returned `rv`.
    public static func call(_ function: String, failedWith rv: ReturnValue) -> PKCS11Error {
        PKCS11Error(code: .callFailed, returnValue: rv, function: function, reason: "\(function) returned \(rv.name)")
    }

    public var description: String {
        if code == .callFailed { return reason }
        return "\(code): \(reason)"
    }
}
