import NIOSSL
import Server

extension ServeCommand {
    /// The TLS client configuration for a `tls://` collector: its CA file, else the system's roots.
    static func syslogTLS(_ settings: SyslogSettings) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = settings.caFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
        }
        return tls
    }
}
