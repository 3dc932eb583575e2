internal import CPKCS11

/// A handle to a token object. Valid for the whole application until the module is re-initialised.
public struct ObjectHandle: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public var description: String { "object \(rawValue)" }
}

/// Who logs in (`CK_USER_TYPE`). Some HSMs define their own (Luna's crypto user).
public struct UserType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public static let securityOfficer = UserType(rawValue: 0)
    public static let user = UserType(rawValue: 1)
    public static let contextSpecific = UserType(rawValue: 2)
}

/// `CK_SESSION_INFO`.
public struct SessionInfo: Sendable, Hashable {
    /// `CKS_RO_PUBLIC_SESSION` (0) … `CKS_RW_SO_FUNCTIONS` (4).
    public var state: UInt
    public var flags: UInt
    public var deviceError: UInt
    /// The session sees the token as logged in (as user or SO).
    public var isLoggedIn: Bool { state == 1 || state == 3 || state == 4 }
}

/// A PKCS#11 session. Not thread-safe: PKCS#11 allows one call at a time per session and SoftHSM
/// crashes on concurrent use, so a session is owned by one thread at a time (the pool's workers).
public final class Session {
    public let module: Module
    public let slot: SlotID
    let handle: CK_SESSION_HANDLE
    private let generation: UInt64
    private var closed = false

    init(module: Module, slot: SlotID, handle: CK_SESSION_HANDLE, generation: UInt64) {
        self.module = module
        self.slot = slot
        self.handle = handle
        self.generation = generation
    }

    deinit { close() }

    /// Closes the session unless it is already known to be gone.
    public func close() {
        guard !closed else { return }
        closed = true
        // After a re-initialisation the handle number may belong to a new session: leave it alone.
        if module.generation == generation {
            _ = module.callReturning { $0.pointee.C_CloseSession!(handle) }
        }
    }

    /// Marks the session as gone without calling the module (after `CKR_SESSION_HANDLE_INVALID`).
    public func invalidate() { closed = true }

    /// Whether the module was re-initialised since this session was opened.
    public var isStale: Bool { module.generation != generation }

    // MARK: Login

    /// Logs in. `CKR_USER_ALREADY_LOGGED_IN` counts as success: login state is per application.
    public func login(_ userType: UserType = .user, pin: String) throws(PKCS11Error) {
        var bytes = Array(pin.utf8)
        defer { for index in bytes.indices { bytes[index] = 0 } }
        let count = CK_ULONG(bytes.count)
        let rv = module.callReturning { $0.pointee.C_Login!(handle, userType.rawValue, &bytes, count) }
        if rv != .ok && rv != .userAlreadyLoggedIn { throw PKCS11Error.call("C_Login", failedWith: rv) }
    }

    /// Logs out. Logs out every session of the application: never call this while serving.
    public func logout() throws(PKCS11Error) {
        try module.call("C_Logout") { $0.pointee.C_Logout!(handle) }
    }

    /// Sets the user PIN; needs an SO session (`C_InitPIN`).
    public func initPIN(_ pin: String) throws(PKCS11Error) {
        var bytes = Array(pin.utf8)
        let count = CK_ULONG(bytes.count)
        try module.call("C_InitPIN") { $0.pointee.C_InitPIN!(handle, &bytes, count) }
    }

    /// `C_GetSessionInfo`; also a cheap liveness probe.
    public func info() throws(PKCS11Error) -> SessionInfo {
        var info = CK_SESSION_INFO()
        try module.call("C_GetSessionInfo") { $0.pointee.C_GetSessionInfo!(handle, &info) }
        return SessionInfo(state: info.state, flags: info.flags, deviceError: info.ulDeviceError)
    }

    // MARK: Objects

    /// Handles of objects matching `template`, at most `limit`.
    public func findObjects(_ template: AttributeTemplate, limit: Int = 64) throws(PKCS11Error) -> [ObjectHandle] {
        try template.withUnsafeAttributes { (pointer, count) throws(PKCS11Error) in
            try module.call("C_FindObjectsInit") { $0.pointee.C_FindObjectsInit!(handle, pointer, count) }
        }
        defer { _ = module.callReturning { $0.pointee.C_FindObjectsFinal!(handle) } }
        var found: [ObjectHandle] = []
        var batch = [CK_OBJECT_HANDLE](repeating: 0, count: min(limit, 64))
        while found.count < limit {
            var count: CK_ULONG = 0
            let wanted = CK_ULONG(min(batch.count, limit - found.count))
            try module.call("C_FindObjects") { $0.pointee.C_FindObjects!(handle, &batch, wanted, &count) }
            if count == 0 { break }
            found += batch.prefix(Int(count)).map { ObjectHandle(rawValue: $0) }
        }
        return found
    }

    /// The value of one attribute. Throws `CKR_ATTRIBUTE_SENSITIVE` for secret values of sensitive keys.
    public func attribute(_ type: AttributeType, of object: ObjectHandle) throws(PKCS11Error) -> [UInt8] {
        var attribute = CK_ATTRIBUTE(type: type.rawValue, pValue: nil, ulValueLen: 0)
        try module.call("C_GetAttributeValue") {
            $0.pointee.C_GetAttributeValue!(handle, object.rawValue, &attribute, 1)
        }
        if attribute.ulValueLen == CK_ULONG.max {
            throw PKCS11Error(code: .unexpectedValue, reason: "\(type) of \(object) is unavailable")
        }
        var value = [UInt8](repeating: 0, count: Int(attribute.ulValueLen))
        try value.withUnsafeMutableBufferPointer { (buffer) throws(PKCS11Error) in
            attribute.pValue = UnsafeMutableRawPointer(buffer.baseAddress)
            try module.call("C_GetAttributeValue") {
                $0.pointee.C_GetAttributeValue!(handle, object.rawValue, &attribute, 1)
            }
        }
        return Array(value.prefix(Int(attribute.ulValueLen)))
    }

    /// A `CK_BBOOL` attribute.
    public func boolAttribute(_ type: AttributeType, of object: ObjectHandle) throws(PKCS11Error) -> Bool {
        let bytes = try attribute(type, of: object)
        guard let value = Attribute.decodeBool(bytes) else {
            throw PKCS11Error(code: .unexpectedValue, reason: "\(type) of \(object) is not a CK_BBOOL")
        }
        return value
    }

    /// A `CK_ULONG` attribute.
    public func ulongAttribute(_ type: AttributeType, of object: ObjectHandle) throws(PKCS11Error) -> UInt {
        let bytes = try attribute(type, of: object)
        guard let value = Attribute.decodeULong(bytes) else {
            throw PKCS11Error(code: .unexpectedValue, reason: "\(type) of \(object) is not a CK_ULONG")
        }
        return value
    }

    /// Creates an object (a public key, a certificate, a data object).
    public func createObject(_ template: AttributeTemplate) throws(PKCS11Error) -> ObjectHandle {
        var object: CK_OBJECT_HANDLE = 0
        try template.withUnsafeAttributes { (pointer, count) throws(PKCS11Error) in
            try module.call("C_CreateObject") { $0.pointee.C_CreateObject!(handle, pointer, count, &object) }
        }
        return ObjectHandle(rawValue: object)
    }

    /// Destroys an object.
    public func destroyObject(_ object: ObjectHandle) throws(PKCS11Error) {
        try module.call("C_DestroyObject") { $0.pointee.C_DestroyObject!(handle, object.rawValue) }
    }

    // MARK: Keys

    /// Generates a key pair in the token.
    public func generateKeyPair(
        _ mechanism: Mechanism,
        publicKey: AttributeTemplate,
        privateKey: AttributeTemplate
    ) throws(PKCS11Error) -> (publicKey: ObjectHandle, privateKey: ObjectHandle) {
        var publicHandle: CK_OBJECT_HANDLE = 0
        var privateHandle: CK_OBJECT_HANDLE = 0
        try mechanism.withUnsafeMechanism { (mech) throws(PKCS11Error) in
            try publicKey.withUnsafeAttributes { (pub, pubCount) throws(PKCS11Error) in
                try privateKey.withUnsafeAttributes { (priv, privCount) throws(PKCS11Error) in
                    try module.call("C_GenerateKeyPair") {
                        $0.pointee.C_GenerateKeyPair!(
                            handle,
                            mech,
                            pub,
                            pubCount,
                            priv,
                            privCount,
                            &publicHandle,
                            &privateHandle
                        )
                    }
                }
            }
        }
        return (ObjectHandle(rawValue: publicHandle), ObjectHandle(rawValue: privateHandle))
    }

    /// Generates a secret key in the token.
    public func generateKey(_ mechanism: Mechanism, _ template: AttributeTemplate) throws(PKCS11Error) -> ObjectHandle {
        var key: CK_OBJECT_HANDLE = 0
        try mechanism.withUnsafeMechanism { (mech) throws(PKCS11Error) in
            try template.withUnsafeAttributes { (pointer, count) throws(PKCS11Error) in
                try module.call("C_GenerateKey") { $0.pointee.C_GenerateKey!(handle, mech, pointer, count, &key) }
            }
        }
        return ObjectHandle(rawValue: key)
    }

    /// Wraps (encrypts) `key` under `wrappingKey`.
    public func wrapKey(_ mechanism: Mechanism, wrappingKey: ObjectHandle, key: ObjectHandle) throws(PKCS11Error)
        -> [UInt8]
    {
        try mechanism.withUnsafeMechanism { (mech) throws(PKCS11Error) in
            try output("C_WrapKey", capacity: 1024) { out, length in
                module.callReturning {
                    $0.pointee.C_WrapKey!(handle, mech, wrappingKey.rawValue, key.rawValue, out, length)
                }
            }
        }
    }

    /// Unwraps `wrapped` under `unwrappingKey` into a new key object described by `template`.
    public func unwrapKey(
        _ mechanism: Mechanism,
        unwrappingKey: ObjectHandle,
        wrapped: [UInt8],
        template: AttributeTemplate
    ) throws(PKCS11Error) -> ObjectHandle {
        var key: CK_OBJECT_HANDLE = 0
        var input = wrapped
        let inputCount = CK_ULONG(input.count)
        try mechanism.withUnsafeMechanism { (mech) throws(PKCS11Error) in
            try template.withUnsafeAttributes { (pointer, count) throws(PKCS11Error) in
                try module.call("C_UnwrapKey") {
                    $0.pointee.C_UnwrapKey!(
                        handle,
                        mech,
                        unwrappingKey.rawValue,
                        &input,
                        inputCount,
                        pointer,
                        count,
                        &key
                    )
                }
            }
        }
        return ObjectHandle(rawValue: key)
    }

    // MARK: Cryptographic operations

    /// Signs `data` (a digest or a message, as the mechanism expects) with `key`.
    public func sign(_ mechanism: Mechanism, key: ObjectHandle, data: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        try mechanism.withUnsafeMechanism { (mech) throws(PKCS11Error) in
            try module.call("C_SignInit") { $0.pointee.C_SignInit!(handle, mech, key.rawValue) }
        }
        var input = data
        let inputCount = CK_ULONG(input.count)
        return try output("C_Sign", capacity: 1024) { out, length in
            module.callReturning { $0.pointee.C_Sign!(handle, &input, inputCount, out, length) }
        }
    }

    /// Verifies a signature; false for `CKR_SIGNATURE_INVALID` and `CKR_SIGNATURE_LEN_RANGE`.
    public func verify(_ mechanism: Mechanism, key: ObjectHandle, data: [UInt8], signature: [UInt8])
        throws(PKCS11Error) -> Bool
    {
        try mechanism.withUnsafeMechanism { (mech) throws(PKCS11Error) in
            try module.call("C_VerifyInit") { $0.pointee.C_VerifyInit!(handle, mech, key.rawValue) }
        }
        var input = data
        var sig = signature
        let inputCount = CK_ULONG(input.count)
        let sigCount = CK_ULONG(sig.count)
        let rv = module.callReturning { $0.pointee.C_Verify!(handle, &input, inputCount, &sig, sigCount) }
        switch rv {
        case .ok: return true
        case .signatureInvalid, .signatureLenRange: return false
        default: throw PKCS11Error.call("C_Verify", failedWith: rv)
        }
    }

    /// Encrypts `data` with `key`.
    public func encrypt(_ mechanism: Mechanism, key: ObjectHandle, data: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        try mechanism.withUnsafeMechanism { (mech) throws(PKCS11Error) in
            try module.call("C_EncryptInit") { $0.pointee.C_EncryptInit!(handle, mech, key.rawValue) }
            var input = data
            let inputCount = CK_ULONG(input.count)
            // GCM parameters must stay alive until the single-part call returns.
            return try output("C_Encrypt", capacity: data.count + 64) { out, length in
                module.callReturning { $0.pointee.C_Encrypt!(handle, &input, inputCount, out, length) }
            }
        }
    }

    /// Decrypts `data` with `key`.
    public func decrypt(_ mechanism: Mechanism, key: ObjectHandle, data: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        try mechanism.withUnsafeMechanism { (mech) throws(PKCS11Error) in
            try module.call("C_DecryptInit") { $0.pointee.C_DecryptInit!(handle, mech, key.rawValue) }
            var input = data
            let inputCount = CK_ULONG(input.count)
            return try output("C_Decrypt", capacity: data.count + 64) { out, length in
                module.callReturning { $0.pointee.C_Decrypt!(handle, &input, inputCount, out, length) }
            }
        }
    }

    /// Random bytes from the token's RNG.
    public func generateRandom(_ count: Int) throws(PKCS11Error) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let length = CK_ULONG(count)
        try module.call("C_GenerateRandom") { $0.pointee.C_GenerateRandom!(handle, &bytes, length) }
        return bytes
    }

    /// Runs a single-part call with an output buffer sized `capacity`; on `CKR_BUFFER_TOO_SMALL` retries
    /// once with the size the module reported (the operation stays active per PKCS#11 section 5.2).
    private func output(
        _ function: StaticString,
        capacity: Int,
        _ body: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<CK_ULONG>) -> ReturnValue
    ) throws(PKCS11Error) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: capacity)
        var length = CK_ULONG(capacity)
        var rv = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, &length) }
        if rv == .bufferTooSmall {
            buffer = [UInt8](repeating: 0, count: Int(length))
            rv = buffer.withUnsafeMutableBufferPointer { body($0.baseAddress!, &length) }
        }
        guard rv == .ok else { throw PKCS11Error.call("\(function)", failedWith: rv) }
        buffer.removeSubrange(Int(length)...)
        return buffer
    }
}
