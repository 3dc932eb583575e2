import Synchronization
public import X509

/// Parsed CA certificates, by their DER bytes: every issuance reads its CA's record and chain, and
/// parsing the same certificates again for each request would cost more than signing. Keyed by the
/// bytes, so a renewed or imported certificate is simply a new entry; bounded, oldest dropped.
public enum ParsedCertificates {
    private static let cache = Mutex<(entries: [BytesKey: Certificate], order: [BytesKey])>(([:], []))
    private static let capacity = 512

    /// The certificate with this DER, parsed once.
    public static func certificate(_ der: [UInt8]) throws -> Certificate {
        let key = BytesKey(der)
        if let known = cache.withLock({ $0.entries[key] }) { return known }
        let parsed = try Certificate(derEncoded: der)
        cache.withLock { state in
            guard state.entries[key] == nil else { return }
            state.entries[key] = parsed
            state.order.append(key)
            if state.order.count > capacity { state.entries[state.order.removeFirst()] = nil }
        }
        return parsed
    }
}
