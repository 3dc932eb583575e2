import Foundation
import HSMTLS
import HummingbirdTLS
import NIOSSL
import Signing
import SwiftASN1
import X509

/// Builds the HTTPS configuration: the certificate chain from its file, the key in the HSM, and
/// (for mTLS) the roots that client certificates must chain to.
///
/// Without a client CA, the server still asks for a client certificate and lets the client send none:
/// EST clients renew with their certificate, and the enrollment profile, not the TLS layer, decides
/// which issuers it trusts (they change at run time, with the CAs). The handshake proves the client
/// holds the certificate's key. The web console also signs in a certificate an administrator bound to a
/// credential (by its hash).
enum TLSSetup {
    static func channelConfiguration(_ tls: ServerConfiguration.TLS, signing: SigningService) async throws
        -> TLSChannelConfiguration
    {
        var configuration = try await configuration(tls, signing: signing)
        guard tls.clientCAPath == nil else { return TLSChannelConfiguration(tlsConfiguration: configuration) }
        configuration.certificateVerification = .optionalVerification
        configuration.sendCANameList = false
        return TLSChannelConfiguration(tlsConfiguration: configuration) { _, promise in
            promise.succeed(.certificateVerified)
        }
    }

    static func configuration(_ tls: ServerConfiguration.TLS, signing: SigningService) async throws -> TLSConfiguration
    {
        let pem: String
        do { pem = try String(contentsOfFile: tls.certificateChainPath, encoding: .utf8) } catch {
            throw ConfigurationError(
                "cannot read tls.certificateChain \(tls.certificateChainPath): \(error.localizedDescription)"
            )
        }
        let chain: [Certificate]
        do { chain = try PEMCertificates.parse(pem) } catch {
            throw ConfigurationError("\(tls.certificateChainPath) is not a PEM certificate chain: \(error)")
        }
        guard let leaf = chain.first else {
            throw ConfigurationError("\(tls.certificateChainPath) holds no certificate")
        }
        let key = try await signing.keys.serviceKey(tls.keyName)
        var spki = DER.Serializer()
        try spki.serialize(leaf.publicKey)
        guard spki.serializedBytes == key.publicKey.derRepresentation else {
            throw ConfigurationError(
                "the first certificate in \(tls.certificateChainPath) does not certify the HSM key \(tls.keyName)"
            )
        }
        let certificates = try chain.map { certificate in
            var serializer = DER.Serializer()
            try serializer.serialize(certificate)
            return NIOSSLCertificateSource.certificate(
                try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
            )
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificates,
            privateKey: .privateKey(NIOSSLPrivateKey(customPrivateKey: HSMTLSKey(key, keyStore: signing.keyStore)))
        )
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA = tls.clientCAPath {
            let roots: [NIOSSLCertificate]
            do { roots = try NIOSSLCertificate.fromPEMFile(clientCA) } catch {
                throw ConfigurationError("cannot read tls.clientCA \(clientCA): \(error)")
            }
            configuration.trustRoots = .certificates(roots)
            configuration.certificateVerification = .noHostnameVerification
        }
        return configuration
    }
}
