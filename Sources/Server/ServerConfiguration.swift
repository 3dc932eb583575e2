public import ACMEValidation
public import CA
public import Notifications
public import Signing
public import Syslog

/// What the HTTP service needs beyond its components: where to listen and what to accept.
public struct ServerConfiguration: Sendable {
    /// Per-credential signing rate.
    public struct RateLimit: Sendable, Hashable {
        public var signaturesPerSecond: Double
        public var burst: Double
        public init(signaturesPerSecond: Double, burst: Double) {
            self.signaturesPerSecond = signaturesPerSecond
            self.burst = burst
        }
    }

    /// Code signing: artifact size and RFC 3161 timestamps.
    public struct CodeSigning: Sendable {
        /// Largest artifact sent whole (`application/octet-stream`); it is hashed as it streams in.
        public var maxArtifactBytes: Int
        /// Nil: no TSA, signatures carry no timestamp (and `required` fails).
        public var timestamps: TimestampClient.Configuration?
        /// When a request names no policy.
        public var timestampPolicy: CodeSigner.TimestampPolicy

        public init(
            maxArtifactBytes: Int = 1 << 30,
            timestamps: TimestampClient.Configuration? = nil,
            timestampPolicy: CodeSigner.TimestampPolicy? = nil
        ) {
            self.maxArtifactBytes = maxArtifactBytes
            self.timestamps = timestamps
            self.timestampPolicy = timestampPolicy ?? (timestamps == nil ? .none : .preferred)
        }
    }

    /// HTTPS: the server's certificate chain from a file, its key in the HSM, optional client certificates.
    public struct TLS: Sendable, Hashable {
        /// PEM, leaf first; the leaf must certify `keyName`'s public key.
        public var certificateChainPath: String
        /// A service key (`custos-…`) made by `custos tls init`.
        public var keyName: String
        /// PEM roots for client certificates; set, every client must present one they issued (mTLS).
        public var clientCAPath: String?

        public init(certificateChainPath: String, keyName: String = "custos-tls", clientCAPath: String? = nil) {
            self.certificateChainPath = certificateChainPath
            self.keyName = keyName
            self.clientCAPath = clientCAPath
        }
    }

    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    /// Largest request body in bytes; larger ones get 413.
    public var maxBodyBytes: Int
    public var signing: SigningService.Limits
    /// Nil: no per-credential limit.
    public var rateLimit: RateLimit?
    public var codeSigning: CodeSigning
    /// Nil: plain HTTP (meant for loopback).
    public var tls: TLS?
    /// The certificate authority's public URL and defaults.
    public var ca: CAConfiguration
    /// How long OCSP answers are valid (nextUpdate − thisUpdate); those signed ahead are refreshed
    /// after half of it.
    public var ocspValidity: Duration = .seconds(4 * 86_400)
    /// OCSP signatures made live at once; more get `tryLater`.
    public var ocspMaxLiveSignatures = 64
    /// Whether OCSP answers are signed by a delegated OCSP signer per CA (issued and rotated by Custos)
    /// instead of by the CA key.
    public var ocspDelegatedSigners = false
    /// Validity of delegated OCSP signer certificates, in days; at least twice `ocspValidity` plus a
    /// day, since a signer is replaced while twice an answer's validity is left.
    public var ocspSignerValidityDays = 14
    /// How often requests refused for want of a credential are summarised in the audit log (one entry
    /// per source, route and reason), instead of one entry each.
    public var refusalSummaryInterval: Duration = .seconds(60)
    /// Timeouts and limits of client connections.
    public var connections = ConnectionLimits()
    /// Seconds an EST client is told to wait (`Retry-After`) before it asks again for a request held for
    /// an officer's approval.
    public var enrollmentRetryAfterSeconds = 60
    /// How long a web-console session lasts without use (`console.idleSeconds`, 5 to 86400; 15 minutes
    /// unless set).
    public var consoleIdleTimeout: Duration = .seconds(900)
    /// Operational logs (and audit entries) to a syslog collector; nil: none.
    public var syslog: SyslogSettings?
    /// The AgentX master agent (snmpd) the SNMP subagent registers with; nil: no SNMP.
    public var snmp: SNMPSettings?
    /// How the notification outbox retries.
    public var notifications = DeliverySettings()
    /// How often the operations watch looks (HSM, CRLs, CA and OCSP signer ends).
    public var operationsWatchInterval: Duration = .seconds(10)
    /// How often expiry rules and due reports are evaluated.
    public var notificationEvaluationInterval: Duration = .seconds(3600)
    /// How ACME challenges are validated: resolvers, ports, timeouts, attempts, concurrency.
    public var acmeValidation = ValidationSettings()
    /// The shared PostgreSQL store (`store.url`, `CUSTOS_STORE`: a postgres:// URL); nil for LMDB in the
    /// data directory.
    public var storeURL: String?

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maxBodyBytes: Int = 4 << 20,
        signing: SigningService.Limits = .init(),
        rateLimit: RateLimit? = nil,
        codeSigning: CodeSigning = .init(),
        tls: TLS? = nil,
        ca: CAConfiguration = .init()
    ) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.signing = signing
        self.rateLimit = rateLimit
        self.codeSigning = codeSigning
        self.tls = tls
        self.ca = ca
    }
}

/// `syslog:` in the configuration file: where operational logs go besides standard error.
public struct SyslogSettings: Sendable, Equatable {
    public var destination: SyslogDestination
    /// For `tls://`: a PEM file of the collector's CA certificates (default: the system's trust store).
    public var caFile: String?
    /// The lowest level sent (default info).
    public var level: String = "info"
    public var facility: SyslogMessage.Facility = .daemon
    /// Whether audit entries go too (facility authpriv), once committed; default true.
    public var audit: Bool = true

    public init(destination: SyslogDestination) { self.destination = destination }
}
