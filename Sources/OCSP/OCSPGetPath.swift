import Codecs

/// The request in an OCSP GET path (RFC 6960 appendix A.1, RFC 5019 section 5): `/ocsp/` followed by
/// the DER request in base64, URL-encoded, as clients and the proxies between them send it.
public enum OCSPGetPath {
    /// The largest OCSP request taken, POST or GET: one with a few CertIDs is well under 1 KiB.
    public static let maxRequestBytes = 16 * 1024

    /// The base64 text of the request in a GET path: everything after `/ocsp/`, URL-decoded, with
    /// leading slashes dropped and `+` restored where a proxy turned it into a space. Works on the
    /// path's bytes (Foundation's string functions cost more than the rest of an answer).
    public static func base64Text(_ path: String) -> [UInt8]? {
        let bytes = Array(path.utf8)
        let marker = Array("/ocsp/".utf8)
        guard
            let start = (0...max(0, bytes.count - marker.count)).first(where: { at in
                bytes.count >= at + marker.count && bytes[at..<at + marker.count].elementsEqual(marker)
            })
        else { return nil }
        var index = start + marker.count
        while index < bytes.count, bytes[index] == UInt8(ascii: "/") { index += 1 }
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count - index)
        while index < bytes.count {
            var byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = Hex.value(ofDigit: bytes[index + 1]),
                    let low = Hex.value(ofDigit: bytes[index + 2])
                else { return nil }
                byte = high << 4 | low
                index += 2
            }
            text.append(byte == UInt8(ascii: " ") ? UInt8(ascii: "+") : byte)
            index += 1
        }
        guard !text.isEmpty, text.count <= maxRequestBytes * 2 else { return nil }
        return text
    }

    /// The request in base64 `text` whose run of slashes a proxy collapsed to one (losing one to three
    /// characters): the slashes are put back at each slash in turn, and the first repair that is an
    /// OCSP request is kept. Bounded, so that a path full of slashes costs no more than a real request
    /// (a few CertIDs are well under 2 KiB of base64).
    public static func repaired(_ text: [UInt8]) -> [UInt8]? {
        guard text.count <= 2048 else { return nil }
        var tries = 0
        for (slash, byte) in text.enumerated() where byte == UInt8(ascii: "/") {
            guard tries < 32 else { break }
            tries += 1
            for missing in 1...3 {
                var repaired = text
                repaired.insert(contentsOf: repeatElement(UInt8(ascii: "/"), count: missing), at: slash)
                if let der = Base64.decode(repaired), OCSPResponder.isRequest(der) { return der }
            }
        }
        return nil
    }
}
