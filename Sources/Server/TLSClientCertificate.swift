import NIOSSL
import X509

extension CustosRequestContext {
    /// The TLS client certificate of the connection, if the client sent one; the handshake proved the
    /// client holds its key. (NIOSSL keeps the leaf only: an EST profile's anchors therefore name the CA
    /// that issued the client's certificate, and the console binds certificates by their hash.)
    func tlsClientCertificate() async -> Certificate? {
        guard let der = await tlsClientCertificateDER() else { return nil }
        return try? Certificate(derEncoded: der)
    }

    /// The DER of the connection's TLS client certificate, as the client sent it.
    func tlsClientCertificateDER() async -> [UInt8]? {
        guard let channel, let peer = try? await channel.nioSSL_peerCertificate().get() else { return nil }
        return try? peer.toDERBytes()
    }
}
