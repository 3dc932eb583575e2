import Crypto
public import X509

/// The SubjectPublicKeyInfo of a PKCS#10 request as the request's own bytes (RFC 2986 section 4):
///
///     CertificationRequest ::= SEQUENCE {
///         certificationRequestInfo CertificationRequestInfo, ... }
///     CertificationRequestInfo ::= SEQUENCE {
///         version INTEGER, subject Name, subjectPKInfo SubjectPublicKeyInfo, attributes [0] ... }
///
/// A certificate's subject key identifier is the SHA-1 of its public key's bits (RFC 5280 section
/// 4.2.1.2, method 1). swift-certificates makes those bits from the parsed key, converting the EC point
/// back to bytes (a field inversion), once for the identifier and again for the certificate. For an
/// EC key in the one form swift-certificates writes (named curve, uncompressed point) the request holds
/// the very same bits, so the identifier is hashed from them; any other request goes the long way.
public enum CSRPublicKeyInfo {
    /// The public key bits (the uncompressed point, from its 0x04) in `csr` (an already parsed
    /// request), if its SubjectPublicKeyInfo is an EC key in the form swift-certificates writes; nil
    /// otherwise.
    public static func canonicalECPoint(in csr: [UInt8]) -> ArraySlice<UInt8>? {
        var reader = Reader(bytes: csr[...])
        guard let request = reader.element(tag: 0x30) else { return nil }
        var requestContent = Reader(bytes: request.content)
        guard let info = requestContent.element(tag: 0x30) else { return nil }
        var infoContent = Reader(bytes: info.content)
        guard infoContent.element(tag: 0x02) != nil, infoContent.element(tag: 0x30) != nil,
            let spki = infoContent.element(tag: 0x30)
        else { return nil }
        let element = spki.element
        guard
            let form = canonicalPrefixes.first(where: { prefix, length in
                element.count == length && element.starts(with: prefix)
            })
        else { return nil }
        return element.dropFirst(form.prefix.count - 1)
    }

    /// The subject key identifier of the key in `csr`: from the request's bytes when they are
    /// canonical, else as swift-certificates computes it from `publicKey`.
    public static func subjectKeyIdentifier(csr: [UInt8]?, publicKey: Certificate.PublicKey) -> SubjectKeyIdentifier {
        if let csr, let point = canonicalECPoint(in: csr) {
            return SubjectKeyIdentifier(keyIdentifier: ArraySlice(Insecure.SHA1.hash(data: point)))
        }
        return SubjectKeyIdentifier(hash: publicKey)
    }

    /// Everything up to the point's first coordinate (algorithm, curve, BIT STRING header, 0x04) and
    /// the whole element's length, for P-256, P-384 and P-521.
    public static let canonicalPrefixes: [(prefix: [UInt8], length: Int)] = [
        (
            [
                0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86,
                0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
            ], 91
        ),
        (
            [
                0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x05, 0x2B, 0x81,
                0x04, 0x00, 0x22, 0x03, 0x62, 0x00, 0x04,
            ], 120
        ),
        (
            [
                0x30, 0x81, 0x9B, 0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x05, 0x2B,
                0x81, 0x04, 0x00, 0x23, 0x03, 0x81, 0x86, 0x00, 0x04,
            ], 158
        ),
    ]

    /// Steps over DER elements (tag, definite length, content) without building a tree.
    struct Reader {
        var bytes: ArraySlice<UInt8>

        /// The next element if it has `tag`: the whole element and its content.
        mutating func element(tag: UInt8) -> (element: ArraySlice<UInt8>, content: ArraySlice<UInt8>)? {
            let start = bytes.startIndex
            guard bytes.count >= 2, bytes[start] == tag else { return nil }
            var index = start + 1
            var length = Int(bytes[index])
            index += 1
            if length >= 0x80 {
                let octets = length & 0x7F
                guard octets >= 1, octets <= 3, bytes.endIndex - index >= octets else { return nil }
                length = 0
                for _ in 0..<octets {
                    length = length << 8 | Int(bytes[index])
                    index += 1
                }
            }
            guard bytes.endIndex - index >= length else { return nil }
            let end = index + length
            defer { bytes = bytes[end...] }
            return (bytes[start..<end], bytes[index..<end])
        }
    }
}
