import CustosX509
import Foundation

/// The SCEP message the bench sends: a PKCSReq made with OpenSSL (client key, self-signed certificate,
/// CSR with the challengePassword, `cms -encrypt` to the RA, `dgst -sign` over the signed attributes)
/// and the CMS codec (attributes and SignedData).
enum SCEPMessage {
    /// A PKCSReq to the RA `raCertificate` (DER) with `password`: its CSR (PEM, for the REST peer) and
    /// the message (DER). `run` runs a tool in `directory` and returns its standard output.
    static func pkcsReq(
        raCertificate: [UInt8],
        password: String,
        in directory: String,
        run: (String, [String]) throws -> String
    ) throws -> (csr: String, message: [UInt8]) {
        func file(_ name: String) throws -> [UInt8] {
            Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)")))
        }
        try Data(raCertificate).write(to: URL(fileURLWithPath: "\(directory)/ra.der"))
        _ = try run("openssl", ["x509", "-inform", "DER", "-in", "ra.der", "-out", "ra.pem"])
        _ = try run(
            "openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "scep.key", "-subj", "/CN=bench router",
                "-days", "1", "-outform", "DER", "-out", "scep-self.der",
            ]
        )
        try """
        [req]
        prompt = no
        distinguished_name = dn
        attributes = attrs
        [dn]
        CN = bench router
        [attrs]
        challengePassword = \(password)
        """.write(toFile: "\(directory)/scep.cnf", atomically: true, encoding: .utf8)
        _ = try run(
            "openssl",
            ["req", "-new", "-config", "scep.cnf", "-key", "scep.key", "-outform", "DER", "-out", "scep.csr"]
        )
        let csrPEM = try run("openssl", ["req", "-inform", "DER", "-in", "scep.csr"])
        _ = try run(
            "openssl",
            [
                "cms", "-encrypt", "-binary", "-aes128", "-in", "scep.csr", "-outform", "DER", "-out", "scep.env",
                "ra.pem",
            ]
        )
        let envelope = try file("scep.env")
        _ = try run("openssl", ["dgst", "-sha256", "-binary", "-out", "scep.digest", "scep.env"])
        func octets(_ bytes: [UInt8]) -> [UInt8] { [0x04, UInt8(bytes.count)] + bytes }
        func printable(_ text: String) -> [UInt8] { [0x13, UInt8(text.utf8.count)] + Array(text.utf8) }
        let idData: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01]
        let attributes = [
            CMSAttribute(type: CMSObjectIdentifiers.contentType, values: [idData]),
            CMSAttribute(type: CMSObjectIdentifiers.messageDigest, values: [octets(try file("scep.digest"))]),
            CMSAttribute(type: [2, 16, 840, 1, 113_733, 1, 9, 2], values: [printable("19")]),  // PKCSReq
            CMSAttribute(type: [2, 16, 840, 1, 113_733, 1, 9, 7], values: [printable("bench-transaction")]),
            CMSAttribute(type: [2, 16, 840, 1, 113_733, 1, 9, 5], values: [octets(Array(repeating: 0x42, count: 16))]),
        ]
        try Data(try CMSSignerInfo.encode(attributes)).write(to: URL(fileURLWithPath: "\(directory)/scep.attrs"))
        _ = try run("openssl", ["dgst", "-sha256", "-sign", "scep.key", "-out", "scep.sig", "scep.attrs"])
        let selfSigned = try file("scep-self.der")
        let signer = try CMSSignerInfo(
            identifier: .issuerAndSerialNumber(try IssuerAndSerialNumber(certificate: selfSigned)),
            digestAlgorithm: CMSAlgorithmIdentifier([2, 16, 840, 1, 101, 3, 4, 2, 1]),
            signedAttributes: attributes,
            signatureAlgorithm: CMSAlgorithmIdentifier(CMSObjectIdentifiers.rsaEncryption, parameters: [0x05, 0x00]),
            signature: try file("scep.sig")
        )
        return (
            csrPEM, try CMSSignedDataMessage(content: envelope, certificates: [selfSigned], signers: [signer]).der()
        )
    }

    /// The pkiStatus of a CertRep (`0` success, `2` failure, `3` pending).
    static func pkiStatus(_ reply: [UInt8]) throws -> String {
        let signed = try CMSSignedDataMessage(derEncoded: reply)
        guard
            let value = try signed.signers.first?.signedAttributes.first([2, 16, 840, 1, 113_733, 1, 9, 3])?
                .singleValue(),
            value.count > 2
        else { throw CMSError("the CertRep has no pkiStatus") }
        return String(decoding: value.dropFirst(2), as: UTF8.self)
    }
}
