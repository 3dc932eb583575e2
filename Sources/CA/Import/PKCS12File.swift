import CPKCS12
import Foundation
import PKCS11
import SwiftASN1
import X509

/// A PKCS#12 file (RFC 7292) opened with its password through libcrypto: the key's certificate, the
/// other certificates, and, until `clearKey()` or deinit, the private key's values in buffers
/// libcrypto clears before freeing. Custos reads PKCS#12 for two things only: to move an existing
/// CA key into the HSM, and to import the certificates a bundle carries.
final class PKCS12File: @unchecked Sendable {
    /// The private key's kind, as far as the HSM cares.
    enum KeyKind: Equatable {
        case none
        case rsa(bits: Int)
        case ec(curve: String)
    }

    // Guarded by `lock`: the key values are read on an HSM session's thread.
    private var contents = custos_pkcs12()
    private let lock = NSLock()

    /// The certificate of the private key (or the first certificate when there is no key).
    let certificate: Certificate?
    /// The other certificates, in file order.
    let chain: [Certificate]
    let keyKind: KeyKind

    /// Opens `der` with `password` (the bytes of the password; empty for none).
    init(der: [UInt8], password: [UInt8]) throws(CAError) {
        guard !password.contains(0) else { throw CAError(.invalidInput, "the password contains a NUL byte") }
        var parsed = custos_pkcs12()
        var message = [CChar](repeating: 0, count: 256)
        var terminated = password + [0]
        defer { terminated.withUnsafeMutableBytes { explicit_bzero($0.baseAddress!, $0.count) } }
        let status = terminated.withUnsafeBytes { passwordBytes in
            der.withUnsafeBufferPointer { bytes in
                custos_pkcs12_parse(
                    bytes.baseAddress,
                    bytes.count,
                    passwordBytes.baseAddress!.assumingMemoryBound(to: CChar.self),
                    &parsed,
                    &message,
                    message.count
                )
            }
        }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch UInt32(status) {
        case CUSTOS_PKCS12_OK.rawValue: break
        case CUSTOS_PKCS12_WRONG_PASSWORD.rawValue: throw CAError(.invalidInput, "PKCS#12: \(reason)")
        case CUSTOS_PKCS12_NOT_PKCS12.rawValue: throw CAError(.invalidCertificate, "PKCS#12: \(reason)")
        default: throw CAError(.invalidCertificate, "PKCS#12: \(reason)")
        }
        func read(_ buffer: custos_pkcs12_buffer) throws(CAError) -> Certificate {
            do {
                return try Certificate(
                    derEncoded: Array(UnsafeBufferPointer(start: buffer.bytes, count: buffer.length))
                )
            } catch {
                throw CAError(.invalidCertificate, "PKCS#12: a certificate in the file does not parse: \(error)")
            }
        }
        do {
            var others: [Certificate] = []
            for index in 0..<parsed.chain_count { others.append(try read(parsed.chain[index])) }
            if parsed.certificate.bytes != nil {
                certificate = try read(parsed.certificate)
                chain = others
            } else {
                certificate = others.first
                chain = Array(others.dropFirst())
            }
        } catch {
            custos_pkcs12_free(&parsed)
            throw error
        }
        switch UInt32(parsed.key_kind) {
        case CUSTOS_PKCS12_RSA.rawValue: keyKind = .rsa(bits: Int(parsed.key_bits))
        case CUSTOS_PKCS12_EC.rawValue:
            keyKind = .ec(
                curve: withUnsafeBytes(of: parsed.curve) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            )
        default: keyKind = .none
        }
        contents = parsed
    }

    deinit { custos_pkcs12_free(&contents) }

    /// Clears the private key's values; the certificates stay.
    func clearKey() {
        lock.withLock { custos_pkcs12_clear_key(&contents) }
    }

    /// The HSM key algorithm of the private key, or why it has none.
    func keyAlgorithm() throws(CAError) -> KeyAlgorithm {
        switch keyKind {
        case .none: throw CAError(.invalidInput, "PKCS#12: the file has no private key")
        case .rsa(let bits):
            switch bits {
            case 2048: return .rsa2048
            case 3072: return .rsa3072
            case 4096: return .rsa4096
            default:
                throw CAError(.invalidInput, "PKCS#12: RSA keys of \(bits) bits are not supported (2048, 3072, 4096)")
            }
        case .ec(let curve):
            switch curve {
            case "prime256v1", "P-256": return .ecP256
            case "secp384r1", "P-384": return .ecP384
            case "secp521r1", "P-521": return .ecP521
            default:
                throw CAError(.invalidInput, "PKCS#12: EC keys on \(curve) are not supported (P-256, P-384, P-521)")
            }
        }
    }

    /// The PKCS#11 value attributes of the private key and of its public half (`publicKey`, from the
    /// certificate), built from libcrypto's buffers. The caller clears them (`KeyStore.importKeyPair`).
    func keyValues(publicKey: Certificate.PublicKey, algorithm: KeyAlgorithm) throws -> (
        private: AttributeTemplate, public: AttributeTemplate
    ) {
        try lock.withLock {
            func part(_ index: Int) throws -> [UInt8] {
                guard index < contents.key_part_count else {
                    throw CAError(.internalError, "PKCS#12: the key values were cleared already")
                }
                let buffer = withUnsafeBytes(of: contents.key_parts) {
                    $0.assumingMemoryBound(to: custos_pkcs12_buffer.self)[index]
                }
                return Array(UnsafeBufferPointer(start: buffer.bytes, count: buffer.length))
            }
            switch keyKind {
            case .rsa:
                let types: [AttributeType] = [
                    .modulus, .publicExponent, .privateExponent, .prime1, .prime2, .exponent1, .exponent2,
                    .coefficient,
                ]
                let privateValues = try types.enumerated().map { Attribute($1, bytes: try part($0)) }
                return (
                    AttributeTemplate(privateValues),
                    AttributeTemplate(Array(privateValues.prefix(2)))
                )
            case .ec:
                guard let parameters = algorithm.ecParameters else {
                    throw CAError(.internalError, "no EC parameters for \(algorithm.rawValue)")
                }
                // CKA_EC_POINT is the DER OCTET STRING of the uncompressed point (PKCS#11 3.0, 2.3.3).
                var point = DER.Serializer()
                try point.serialize(ASN1OctetString(contentBytes: publicKey.subjectPublicKeyInfoBytes))
                return (
                    [.bytes(.ecParams, parameters), .bytes(.value, try part(0))],
                    [.bytes(.ecParams, parameters), .bytes(.ecPoint, point.serializedBytes)]
                )
            case .none:
                throw CAError(.invalidInput, "PKCS#12: the file has no private key")
            }
        }
    }
}
