public import PKCS11
import Synchronization

/// Object handles by key reference, shared by all sessions of a pool (handles are valid for the
/// whole application). Object search slows as a token fills, so each key is searched once and then
/// served from here until the module is re-initialised or the token says the handle is invalid.
public final class KeyHandleCache: Sendable {
    private struct Entry: Hashable {
        var reference: KeyReference
        var objectClass: UInt
    }
    private let handles = Mutex<[Entry: ObjectHandle]>([:])

    public init() {}

    /// The handle of `reference`'s object of `objectClass`, searched with `session` on a miss.
    public func handle(_ reference: KeyReference, _ objectClass: ObjectClass, session: Session) throws -> ObjectHandle {
        let entry = Entry(reference: reference, objectClass: objectClass.rawValue)
        if let cached = handles.withLock({ $0[entry] }) { return cached }
        let found = try session.findObjects(reference.template(objectClass), limit: 2)
        guard let handle = found.first else {
            throw HSMError(code: .keyNotFound, reason: "no \(Self.name(objectClass)) for \(reference) on the token")
        }
        if found.count > 1 {
            throw HSMError(
                code: .keyNotFound,
                reason: "\(reference) is ambiguous: several \(Self.name(objectClass)) objects match"
            )
        }
        handles.withLock { $0[entry] = handle }
        return handle
    }

    /// Forgets every handle (after `CKR_OBJECT_HANDLE_INVALID` or a re-initialisation).
    public func invalidateAll() { handles.withLock { $0.removeAll() } }

    /// Forgets the handles of one key (after it is destroyed).
    public func invalidate(_ reference: KeyReference) {
        handles.withLock { table in table = table.filter { $0.key.reference != reference } }
    }

    /// How many handles are cached.
    public var count: Int { handles.withLock { $0.count } }

    private static func name(_ objectClass: ObjectClass) -> String {
        switch objectClass {
        case .privateKey: "private key"
        case .publicKey: "public key"
        case .secretKey: "secret key"
        default: "object"
        }
    }
}
