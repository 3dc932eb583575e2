import CA
import Codecs
import OCSP
import Synchronization

/// What the OCSP fast path learnt from requests it answered, by request path: the store key the path
/// names (so the request is not parsed again) and the caching headers of the answer last served for it
/// (so its SHA-1 ETag and HTTP dates are not formatted again). Every use still reads the answer from
/// the store, so a revocation (which deletes it) or a new signature is seen by the next request; the
/// headers are reused only while the stored bytes are the ones they were made for.
///
/// Relying parties ask for the same few certificates over and over (a TLS server's, a device's at each
/// connection), so a small table answers most GETs. Only paths that named a stored answer get in, and
/// the table keeps the paths stored lately (`GenerationalTable`, at most twice `capacity`), so odd paths
/// cannot grow it.
final class PresignedAnswerCache: Sendable {
    struct Served: Sendable {
        let answer: OCSPResponder.Answer
        let headers: OCSPRoutes.CachingHeaders
    }

    private struct Entry: Sendable {
        let key: OCSPResponder.PresignedKey
        let der: [UInt8]
        let headers: OCSPRoutes.CachingHeaders
    }

    private let responder: OCSPResponder
    private let entries: Mutex<GenerationalTable<String, Entry>>

    init(responder: OCSPResponder, capacity: Int = 4096) {
        self.responder = responder
        entries = Mutex(GenerationalTable(capacity: capacity))
    }

    /// The stored answer to the GET request for `path` and its caching headers; nil when there is none
    /// (not an OCSP GET, a nonce, an unknown issuer, nothing stored or about to expire).
    func answer(path: String) -> Served? {
        // Every other GET passes here too: the prefix first, before hashing the path and taking the lock.
        guard path.utf8.starts(with: "/ocsp/".utf8) else { return nil }
        if let entry = entries.withLock({ $0.value(path) }) {
            guard let answer = responder.presignedAnswerWithoutWaiting(at: entry.key) else { return nil }
            if answer.der == entry.der { return Served(answer: answer, headers: entry.headers) }
            return keep(path, key: entry.key, answer: answer)
        }
        guard let text = OCSPGetPath.base64Text(path), let der = Base64.decode(text),
            let key = responder.presignedKey(for: der),
            let answer = responder.presignedAnswerWithoutWaiting(at: key)
        else { return nil }
        return keep(path, key: key, answer: answer)
    }

    private func keep(_ path: String, key: OCSPResponder.PresignedKey, answer: OCSPResponder.Answer) -> Served? {
        guard let headers = OCSPRoutes.CachingHeaders(answer) else { return nil }
        entries.withLock { $0.insert(Entry(key: key, der: answer.der, headers: headers), for: path) }
        return Served(answer: answer, headers: headers)
    }
}
