public import PKCS11

/// What an operation running in the pool gets: an exclusive session and the pool's key handles.
/// It must not escape the closure it is handed to.
public struct SessionContext {
    /// The session, owned by the calling worker thread for the duration of the operation.
    public let session: Session
    /// The pool's handle cache.
    public let keys: KeyHandleCache

    /// The private-key handle of `reference`.
    public func privateKey(_ reference: KeyReference) throws -> ObjectHandle {
        try keys.handle(reference, .privateKey, session: session)
    }

    /// The public-key handle of `reference`.
    public func publicKey(_ reference: KeyReference) throws -> ObjectHandle {
        try keys.handle(reference, .publicKey, session: session)
    }
}
