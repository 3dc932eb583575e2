internal import CPKCS11
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A loaded, initialised PKCS#11 module (a `.so` opened with dlopen, never linked).
///
/// One instance exists per module path in a process: `load(path:)` hands out the same object while
/// anyone holds it, and the last release finalizes the module once and closes the library.
public final class Module: @unchecked Sendable {
    // @unchecked: the function list pointer never changes after init; the module is initialised with
    // CKF_OS_LOCKING_OK so it serialises its own state; our mutable state sits behind `state`.

    /// The path the module was loaded from.
    public let path: String
    private let handle: UnsafeMutableRawPointer
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    private let state: Mutex<State>
    // Read on every pooled call to spot stale sessions, so an atomic rather than the mutex.
    private let generationCounter = Atomic<UInt64>(0)

    private struct State {
        var initialized: Bool
        var ownsInitialization: Bool
    }

    private static let registry = Mutex<[String: WeakModule]>([:])

    private struct WeakModule { weak var module: Module? }

    /// Loads (or returns the already loaded) module at `path` and initialises it for OS locking.
    public static func load(path: String) throws(PKCS11Error) -> Module {
        let key = canonical(path)
        let result: Result<Module, PKCS11Error> = registry.withLock { registry in
            if let existing = registry[key]?.module { return .success(existing) }
            do {
                let module = try Module(path: path)
                registry[key] = WeakModule(module: module)
                return .success(module)
            } catch let error as PKCS11Error {
                return .failure(error)
            } catch {
                return .failure(PKCS11Error(code: .moduleNotLoadable, reason: "\(error)"))
            }
        }
        return try result.get()
    }

    /// Whether a module for `path` is loaded (and so initialised) in this process now.
    public static func isLoaded(path: String) -> Bool {
        registry.withLock { $0[canonical(path)]?.module != nil }
    }

    private static func canonical(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private init(path: String) throws(PKCS11Error) {
        self.path = path
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        var message = [CChar](repeating: 0, count: 1024)
        guard let handle = cpkcs11_open(path, &list, &message, UInt(message.count)), let list else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw PKCS11Error(code: .moduleNotLoadable, reason: "cannot load PKCS#11 module \(path): \(text)")
        }
        self.handle = handle
        self.functions = list
        self.state = Mutex(State(initialized: false, ownsInitialization: false))
        if let missing = Self.missingFunction(list.pointee) {
            cpkcs11_close(handle)
            throw PKCS11Error(
                code: .moduleNotLoadable,
                reason: "module \(path) has no \(missing) entry point; it is not a usable PKCS#11 module"
            )
        }
        do {
            try initialize()
        } catch {
            cpkcs11_close(handle)
            throw error
        }
    }

    deinit {
        let owns = state.withLock { $0.initialized && $0.ownsInitialization }
        if owns { _ = functions.pointee.C_Finalize!(nil) }
        cpkcs11_close(handle)
    }

    // Every function this layer calls; checked once so that calls can unwrap without a branch.
    private static func missingFunction(_ f: CK_FUNCTION_LIST) -> String? {
        let entries: [(String, Bool)] = [
            ("C_Initialize", f.C_Initialize != nil), ("C_Finalize", f.C_Finalize != nil),
            ("C_GetInfo", f.C_GetInfo != nil), ("C_GetSlotList", f.C_GetSlotList != nil),
            ("C_GetSlotInfo", f.C_GetSlotInfo != nil), ("C_GetTokenInfo", f.C_GetTokenInfo != nil),
            ("C_GetMechanismList", f.C_GetMechanismList != nil),
            ("C_GetMechanismInfo", f.C_GetMechanismInfo != nil), ("C_InitToken", f.C_InitToken != nil),
            ("C_InitPIN", f.C_InitPIN != nil), ("C_OpenSession", f.C_OpenSession != nil),
            ("C_CloseSession", f.C_CloseSession != nil), ("C_CloseAllSessions", f.C_CloseAllSessions != nil),
            ("C_GetSessionInfo", f.C_GetSessionInfo != nil), ("C_Login", f.C_Login != nil),
            ("C_Logout", f.C_Logout != nil), ("C_CreateObject", f.C_CreateObject != nil),
            ("C_DestroyObject", f.C_DestroyObject != nil), ("C_GetAttributeValue", f.C_GetAttributeValue != nil),
            ("C_FindObjectsInit", f.C_FindObjectsInit != nil), ("C_FindObjects", f.C_FindObjects != nil),
            ("C_FindObjectsFinal", f.C_FindObjectsFinal != nil), ("C_EncryptInit", f.C_EncryptInit != nil),
            ("C_Encrypt", f.C_Encrypt != nil), ("C_DecryptInit", f.C_DecryptInit != nil),
            ("C_Decrypt", f.C_Decrypt != nil), ("C_SignInit", f.C_SignInit != nil), ("C_Sign", f.C_Sign != nil),
            ("C_VerifyInit", f.C_VerifyInit != nil), ("C_Verify", f.C_Verify != nil),
            ("C_GenerateKey", f.C_GenerateKey != nil), ("C_GenerateKeyPair", f.C_GenerateKeyPair != nil),
            ("C_WrapKey", f.C_WrapKey != nil), ("C_UnwrapKey", f.C_UnwrapKey != nil),
            ("C_GenerateRandom", f.C_GenerateRandom != nil),
        ]
        return entries.first { !$0.1 }?.0
    }

    /// The one checking function every `C_*` call goes through: a non-`CKR_OK` result becomes a
    /// `PKCS11Error` that names the function.
    @inline(__always)
    func call(_ function: StaticString, _ body: (UnsafeMutablePointer<CK_FUNCTION_LIST>) -> CK_RV) throws(PKCS11Error) {
        let rv = body(functions)
        if rv != 0 { throw PKCS11Error.call("\(function)", failedWith: ReturnValue(rawValue: rv)) }
    }

    /// Like `call`, but returns the code instead of throwing for the codes a caller handles itself.
    @inline(__always)
    func callReturning(_ body: (UnsafeMutablePointer<CK_FUNCTION_LIST>) -> CK_RV) -> ReturnValue {
        ReturnValue(rawValue: body(functions))
    }

    private func initialize() throws(PKCS11Error) {
        var args = cpkcs11_os_locking_args()
        let rv = callReturning { $0.pointee.C_Initialize!(&args) }
        switch rv {
        case .ok:
            state.withLock {
                $0.initialized = true
                $0.ownsInitialization = true
            }
        case .cryptokiAlreadyInitialized:
            // Initialised by another user of the same library in this process; it keeps ownership.
            state.withLock {
                $0.initialized = true
                $0.ownsInitialization = false
            }
        default:
            throw PKCS11Error.call("C_Initialize", failedWith: rv)
        }
    }

    /// Counts re-initialisations; sessions opened under an older generation are dead.
    public var generation: UInt64 { generationCounter.load(ordering: .acquiring) }

    /// Finalizes and initialises the module again (after `CKR_DEVICE_REMOVED` and friends).
    /// Every session and object handle from before is invalid afterwards.
    public func reinitialize() throws(PKCS11Error) {
        generationCounter.add(1, ordering: .releasing)
        _ = callReturning { $0.pointee.C_Finalize!(nil) }
        state.withLock { $0.initialized = false }
        try initialize()
    }

    /// Information about the module (`C_GetInfo`).
    public func info() throws(PKCS11Error) -> ModuleInfo {
        var info = CK_INFO()
        try call("C_GetInfo") { $0.pointee.C_GetInfo!(&info) }
        return ModuleInfo(info)
    }

    /// Slots, by default only those with a token present. Slot ids are not stable across restarts
    /// (SoftHSM renumbers them): find tokens by label or serial instead.
    public func slots(tokenPresent: Bool = true) throws(PKCS11Error) -> [SlotID] {
        let present: CK_BBOOL = tokenPresent ? 1 : 0
        // A slot can appear between the call that counts and the one that fills (a token initialised
        // meanwhile): the second then returns CKR_BUFFER_TOO_SMALL and is asked again (PKCS#11 5.2).
        for _ in 0..<8 {
            var count: CK_ULONG = 0
            try call("C_GetSlotList") { $0.pointee.C_GetSlotList!(present, nil, &count) }
            var ids = [CK_SLOT_ID](repeating: 0, count: Int(count) + 1)
            var filled = CK_ULONG(ids.count)
            do {
                try call("C_GetSlotList") { $0.pointee.C_GetSlotList!(present, &ids, &filled) }
            } catch  where error.returnValue == .bufferTooSmall {
                continue
            }
            return ids.prefix(Int(filled)).map { SlotID(rawValue: $0) }
        }
        throw PKCS11Error(
            code: .callFailed,
            returnValue: .bufferTooSmall,
            function: "C_GetSlotList",
            reason: "C_GetSlotList: the slot list kept growing while it was read"
        )
    }

    /// Token information for a slot (`C_GetTokenInfo`).
    public func tokenInfo(_ slot: SlotID) throws(PKCS11Error) -> TokenInfo {
        var info = CK_TOKEN_INFO()
        try call("C_GetTokenInfo") { $0.pointee.C_GetTokenInfo!(slot.rawValue, &info) }
        return TokenInfo(info)
    }

    /// The slot holding the initialised token with this label.
    public func slot(tokenLabel label: String) throws(PKCS11Error) -> SlotID {
        try slot(matching: "label \"\(label)\"") { $0.label == label && $0.isInitialized }
    }

    /// The slot holding the token with this serial number.
    public func slot(tokenSerial serial: String) throws(PKCS11Error) -> SlotID {
        try slot(matching: "serial \"\(serial)\"") { $0.serialNumber == serial && $0.isInitialized }
    }

    private func slot(matching what: String, _ predicate: (TokenInfo) -> Bool) throws(PKCS11Error) -> SlotID {
        var seen: [String] = []
        for slot in try slots() {
            // A token another process is writing can be unreadable for a moment; it is not ours to fail on.
            guard let info = try? tokenInfo(slot) else { continue }
            if predicate(info) { return slot }
            if info.isInitialized { seen.append("\"\(info.label)\"") }
        }
        let available = seen.isEmpty ? "no initialised tokens" : "tokens: " + seen.joined(separator: ", ")
        throw PKCS11Error(code: .tokenNotFound, reason: "no token with \(what) in \(path) (\(available))")
    }

    /// The mechanisms a slot's token supports.
    public func mechanisms(_ slot: SlotID) throws(PKCS11Error) -> [MechanismType] {
        var count: CK_ULONG = 0
        try call("C_GetMechanismList") { $0.pointee.C_GetMechanismList!(slot.rawValue, nil, &count) }
        var types = [CK_MECHANISM_TYPE](repeating: 0, count: Int(count))
        try call("C_GetMechanismList") { $0.pointee.C_GetMechanismList!(slot.rawValue, &types, &count) }
        return types.prefix(Int(count)).map { MechanismType(rawValue: $0) }
    }

    /// Key sizes and flags of one mechanism.
    public func mechanismInfo(_ slot: SlotID, _ type: MechanismType) throws(PKCS11Error) -> MechanismInfo {
        var info = CK_MECHANISM_INFO()
        try call("C_GetMechanismInfo") { $0.pointee.C_GetMechanismInfo!(slot.rawValue, type.rawValue, &info) }
        return MechanismInfo(
            minKeySize: Int(info.ulMinKeySize),
            maxKeySize: Int(info.ulMaxKeySize),
            flags: MechanismFlags(rawValue: info.flags)
        )
    }

    /// Initialises the token in `slot` (erasing it) with an SO PIN and a label of at most 32 bytes.
    public func initToken(_ slot: SlotID, soPIN: String, label: String) throws(PKCS11Error) {
        let utf8 = Array(label.utf8)
        guard utf8.count <= 32 else {
            throw PKCS11Error(code: .invalidArgument, reason: "token label \"\(label)\" is longer than 32 bytes")
        }
        var padded = utf8 + [UInt8](repeating: 0x20, count: 32 - utf8.count)
        var pin = Array(soPIN.utf8)
        try call("C_InitToken") { $0.pointee.C_InitToken!(slot.rawValue, &pin, CK_ULONG(pin.count), &padded) }
    }

    /// Initialises a new token in the first slot whose token is not initialised (SoftHSM2 keeps one such
    /// slot free), sets its user PIN, and returns the token's slot. The SO login it needs ends with a
    /// logout, which affects this new token only: login state is per token.
    public func initializeFreeToken(label: String, soPIN: String, userPIN: String) throws(PKCS11Error) -> SlotID {
        var free: SlotID?
        for slot in try slots() where (try? tokenInfo(slot).isInitialized) == false {
            free = slot
            break
        }
        guard let free else {
            throw PKCS11Error(code: .tokenNotFound, reason: "no slot with an uninitialised token in \(path)")
        }
        try initToken(free, soPIN: soPIN, label: label)
        let slot = try self.slot(tokenLabel: label)
        let session = try openSession(slot)
        try session.login(.securityOfficer, pin: soPIN)
        try session.initPIN(userPIN)
        try session.logout()
        session.close()
        return slot
    }

    /// Opens a session on a slot; read-write unless asked otherwise.
    public func openSession(_ slot: SlotID, readWrite: Bool = true) throws(PKCS11Error) -> Session {
        var flags: CK_FLAGS = 0x4  // CKF_SERIAL_SESSION
        if readWrite { flags |= 0x2 }  // CKF_RW_SESSION
        var handle: CK_SESSION_HANDLE = 0
        try call("C_OpenSession") { $0.pointee.C_OpenSession!(slot.rawValue, flags, nil, nil, &handle) }
        return Session(module: self, slot: slot, handle: handle, generation: generation)
    }

    /// Closes every session this application has on `slot` (`C_CloseAllSessions`).
    public func closeAllSessions(_ slot: SlotID) throws(PKCS11Error) {
        try call("C_CloseAllSessions") { $0.pointee.C_CloseAllSessions!(slot.rawValue) }
    }
}

/// A slot identifier. Valid only until the module is re-initialised or the process restarts.
public struct SlotID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }
    public var description: String { "slot \(rawValue)" }
}

/// `CK_INFO`: the module's identity.
public struct ModuleInfo: Sendable {
    public var cryptokiVersion: String
    public var manufacturer: String
    public var libraryDescription: String
    public var libraryVersion: String

    init(_ info: CK_INFO) {
        cryptokiVersion = "\(info.cryptokiVersion.major).\(info.cryptokiVersion.minor)"
        manufacturer = paddedString(info.manufacturerID)
        libraryDescription = paddedString(info.libraryDescription)
        libraryVersion = "\(info.libraryVersion.major).\(info.libraryVersion.minor)"
    }
}

/// Reads a fixed-size, blank-padded PKCS#11 string field.
func paddedString<T>(_ field: T) -> String {
    withUnsafeBytes(of: field) { raw in
        let bytes = raw.prefix { $0 != 0 }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.last == " " { text.removeLast() }
        return text
    }
}
