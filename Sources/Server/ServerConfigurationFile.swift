import AgentX
import CA
import Foundation
import Notifications
import Signing
import Syslog
import Yams

extension ServerConfiguration {
    /// Every key the configuration file may have; anything else is an error, so a typo cannot
    /// silently leave a default in place.
    static let knownKeys: Set<String> = [
        "listen.host", "listen.port", "store.url", "limits.maxBodyBytes", "limits.maxBatchItems", "limits.maxDataBytes",
        "limits.maxQueuedSignatures", "rateLimit.signaturesPerSecond", "rateLimit.burst",
        "codeSigning.maxArtifactBytes", "codeSigning.timestampURLs", "codeSigning.timestamp",
        "codeSigning.timestampAttempts", "codeSigning.timestampTimeoutSeconds", "tls.certificateChain", "tls.key",
        "tls.clientCA", "ca.publicURL", "ca.defaultTenant",
        "crl.validityHours", "crl.deltaValidityMinutes", "crl.revocationDelaySeconds", "ocsp.validityHours",
        "ocsp.maxLiveSignatures", "ocsp.delegatedSigners", "ocsp.signerValidityDays",
        "connections.headerTimeoutSeconds", "connections.bodyTimeoutSeconds", "connections.idleTimeoutSeconds",
        "connections.max", "connections.maxPerClient", "audit.refusalSummarySeconds", "enrollment.retryAfterSeconds",
        "console.idleSeconds", "syslog.url", "syslog.caFile", "syslog.level", "syslog.facility", "syslog.audit",
        "acme.resolvers", "acme.http01Port", "acme.tlsALPN01Port", "acme.validationTimeoutSeconds",
        "acme.validationAttempts", "acme.validationRetrySeconds", "acme.maxConcurrentValidations",
        "notifications.firstRetrySeconds", "notifications.longestWaitSeconds", "notifications.attempts",
        "notifications.concurrency", "notifications.evaluateEverySeconds", "notifications.watchEverySeconds",
        "snmp.agentx",
    ]

    /// Reads the YAML configuration file (if any) over the defaults, then `CUSTOS_LISTEN_HOST` and
    /// `CUSTOS_LISTEN_PORT` from `environment` over that.
    ///
    /// ```yaml
    /// listen: { host: 127.0.0.1, port: 8080 }
    /// limits: { maxBodyBytes: 4194304, maxBatchItems: 1000, maxDataBytes: 65536, maxQueuedSignatures: 16384 }
    /// rateLimit: { signaturesPerSecond: 500, burst: 1000 }
    /// codeSigning:
    ///   maxArtifactBytes: 1073741824
    ///   timestampURLs: [http://tsa.example/, http://tsa-fallback.example/]
    ///   timestamp: preferred          # none | preferred | required
    ///   timestampAttempts: 2           # per URL
    ///   timestampTimeoutSeconds: 10
    /// tls:                              # absent: plain HTTP
    ///   certificateChain: /etc/custos/tls-chain.pem
    ///   key: custos-tls                 # made by `custos tls init`
    ///   clientCA: /etc/custos/clients.pem   # optional: require client certificates (mTLS)
    /// ca:
    ///   publicURL: http://pki.example.com   # CRL and CA-issuers URLs in issued certificates
    ///   defaultTenant: default
    /// crl: { validityHours: 24, deltaValidityMinutes: 60, revocationDelaySeconds: 2 }
    /// ocsp: { validityHours: 96, maxLiveSignatures: 64, delegatedSigners: false, signerValidityDays: 14 }
    /// connections:                      # per client connection
    ///   headerTimeoutSeconds: 10        # a request head, from its first byte (or the connection's)
    ///   bodyTimeoutSeconds: 30          # the longest pause inside a request body
    ///   idleTimeoutSeconds: 60          # a kept-alive connection waiting for its next request
    ///   max: 16000                      # default: the open-file limit less 256
    ///   maxPerClient: 1024              # per client address
    /// audit: { refusalSummarySeconds: 60 }   # requests without a valid credential, summarised
    /// acme:                             # how ACME challenges are validated
    ///   resolvers: [10.0.0.53:53]       # default: the nameservers of /etc/resolv.conf
    ///   http01Port: 80
    ///   tlsALPN01Port: 443
    ///   validationTimeoutSeconds: 10    # per attempt
    ///   validationAttempts: 3
    ///   validationRetrySeconds: 3
    ///   maxConcurrentValidations: 32
    /// syslog:                           # operational logs (and audit entries) to a collector, RFC 5424
    ///   url: tls://logs.example.com:6514   # udp://, tcp:// (octet counting) or tls:// (RFC 5425)
    ///   caFile: /etc/custos/syslog-ca.pem  # tls only; default: the system's trust store
    ///   level: info                     # the lowest level sent
    ///   facility: daemon                # daemon or local0 … local7
    ///   audit: true                     # audit entries too (facility authpriv)
    /// notifications:                    # the outbox's delivery (channels and rules are set over the API)
    ///   firstRetrySeconds: 30           # after a failed attempt; doubling each time
    ///   longestWaitSeconds: 3600        # the longest wait between attempts
    ///   attempts: 10                    # then the notification is marked failed
    ///   concurrency: 8                  # deliveries in flight at once
    ///   evaluateEverySeconds: 3600      # expiry warnings and due reports
    ///   watchEverySeconds: 10           # HSM availability, late CRLs, CAs and OCSP signers near their end
    /// snmp:                             # CUSTOS-MIB through snmpd as AgentX master (and traps)
    ///   agentx: tcp:127.0.0.1:705       # snmpd's agentXSocket: tcp:host:port or a Unix socket path
    /// ```
    public static func load(file: String?, environment: [String: String]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        var values: [String: String] = [:]
        var lists: [String: [String]] = [:]
        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw ConfigurationError("cannot read configuration file \(file): \(error.localizedDescription)")
            }
            let root: Any?
            do { root = try Yams.load(yaml: text) } catch {
                throw ConfigurationError("\(file) is not valid YAML: \(error)")
            }
            guard let sections = root as? [String: Any] else {
                throw ConfigurationError("\(file): the top level must be a mapping")
            }
            for (section, content) in sections {
                guard let fields = content as? [String: Any] else {
                    throw ConfigurationError("\(file): \(section) must be a mapping")
                }
                for (field, value) in fields {
                    let path = "\(section).\(field)"
                    guard knownKeys.contains(path) else {
                        throw ConfigurationError("\(file): unknown key \(path)")
                    }
                    if let list = value as? [Any] {
                        lists[path] = list.map { "\($0)" }
                    } else {
                        values[path] = "\(value)"
                    }
                }
            }
        }
        if let host = environment["CUSTOS_LISTEN_HOST"] { values["listen.host"] = host }
        if let port = environment["CUSTOS_LISTEN_PORT"] { values["listen.port"] = port }
        if let store = environment["CUSTOS_STORE"], !store.isEmpty { values["store.url"] = store }
        configuration.storeURL = values["store.url"]

        func integer(_ path: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = values[path] else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw ConfigurationError("\(path) must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        if let host = values["listen.host"] { configuration.host = host }
        if let port = try integer("listen.port", 0...65535) { configuration.port = port }
        if let value = try integer("limits.maxBodyBytes", 1024...(1 << 30)) { configuration.maxBodyBytes = value }
        if let value = try integer("limits.maxBatchItems", 1...100_000) { configuration.signing.maxBatchItems = value }
        if let value = try integer("limits.maxDataBytes", 0...(1 << 30)) { configuration.signing.maxDataBytes = value }
        if let value = try integer("limits.maxQueuedSignatures", 1...10_000_000) {
            configuration.signing.maxQueuedSignatures = value
        }
        let rate = try integer("rateLimit.signaturesPerSecond", 1...10_000_000)
        let burst = try integer("rateLimit.burst", 1...10_000_000)
        if let rate {
            configuration.rateLimit = RateLimit(signaturesPerSecond: Double(rate), burst: Double(burst ?? rate))
        } else if burst != nil {
            throw ConfigurationError("rateLimit.burst needs rateLimit.signaturesPerSecond")
        }
        if let value = try integer("codeSigning.maxArtifactBytes", 1...(1 << 40)) {
            configuration.codeSigning.maxArtifactBytes = value
        }
        let urls = try (lists["codeSigning.timestampURLs"] ?? values["codeSigning.timestampURLs"].map { [$0] } ?? [])
            .map { text in
                guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                    throw ConfigurationError("codeSigning.timestampURLs: \(text) is not an http or https URL")
                }
                return url
            }
        let attempts = try integer("codeSigning.timestampAttempts", 1...10) ?? 2
        let timeout = try integer("codeSigning.timestampTimeoutSeconds", 1...300) ?? 10
        var policy: CodeSigner.TimestampPolicy?
        if let text = values["codeSigning.timestamp"] {
            guard let value = CodeSigner.TimestampPolicy(rawValue: text) else {
                throw ConfigurationError("codeSigning.timestamp must be none, preferred or required")
            }
            policy = value
        }
        if urls.isEmpty, policy == .required {
            throw ConfigurationError("codeSigning.timestamp is required but codeSigning.timestampURLs is empty")
        }
        configuration.codeSigning = CodeSigning(
            maxArtifactBytes: configuration.codeSigning.maxArtifactBytes,
            timestamps: urls.isEmpty
                ? nil : TimestampClient.Configuration(urls: urls, attempts: attempts, timeout: .seconds(timeout)),
            timestampPolicy: policy
        )
        if let chain = values["tls.certificateChain"] {
            configuration.tls = TLS(
                certificateChainPath: chain,
                keyName: values["tls.key"] ?? "custos-tls",
                clientCAPath: values["tls.clientCA"]
            )
        } else if values["tls.key"] != nil || values["tls.clientCA"] != nil {
            throw ConfigurationError("tls needs tls.certificateChain")
        }
        if let url = values["ca.publicURL"] {
            guard let parsed = URL(string: url), parsed.scheme == "http", parsed.host != nil, parsed.query == nil else {
                throw ConfigurationError(
                    "ca.publicURL: \(url) is not an http URL (relying parties fetch CRLs over http)"
                )
            }
        }
        let crl = CAConfiguration.CRLSchedule(
            validity: .seconds(3600 * (try integer("crl.validityHours", 1...8760) ?? 24)),
            deltaValidity: .seconds(60 * (try integer("crl.deltaValidityMinutes", 1...10_080) ?? 60)),
            revocationDelay: .seconds(try integer("crl.revocationDelaySeconds", 0...3600) ?? 2)
        )
        configuration.ca = CAConfiguration(
            publicBaseURL: values["ca.publicURL"],
            defaultTenant: values["ca.defaultTenant"] ?? "default",
            crl: crl
        )
        configuration.ocspValidity = .seconds(3600 * (try integer("ocsp.validityHours", 1...8760) ?? 96))
        configuration.ocspMaxLiveSignatures = try integer("ocsp.maxLiveSignatures", 1...10_000) ?? 64
        if let text = values["ocsp.delegatedSigners"] {
            guard let value = Bool(text) else {
                throw ConfigurationError("ocsp.delegatedSigners must be true or false")
            }
            configuration.ocspDelegatedSigners = value
        }
        configuration.ocspSignerValidityDays = try integer("ocsp.signerValidityDays", 2...366) ?? 14
        let validityHours = Int(configuration.ocspValidity.components.seconds / 3600)
        guard configuration.ocspSignerValidityDays * 24 >= 2 * validityHours + 24 else {
            throw ConfigurationError(
                "ocsp.signerValidityDays must be at least twice ocsp.validityHours plus a day "
                    + "(\((2 * validityHours + 24 + 23) / 24) days for \(validityHours) hours): a signer is "
                    + "replaced while twice an answer's validity is left"
            )
        }
        if let seconds = try integer("connections.headerTimeoutSeconds", 1...3600) {
            configuration.connections.headerTimeout = .seconds(seconds)
        }
        if let seconds = try integer("connections.bodyTimeoutSeconds", 1...3600) {
            configuration.connections.bodyTimeout = .seconds(seconds)
        }
        if let seconds = try integer("connections.idleTimeoutSeconds", 1...86_400) {
            configuration.connections.idleTimeout = .seconds(seconds)
        }
        configuration.connections.maxConnections = try integer("connections.max", 16...1_000_000)
        if let perClient = try integer("connections.maxPerClient", 1...1_000_000) {
            configuration.connections.maxConnectionsPerClient = perClient
        }
        if let seconds = try integer("audit.refusalSummarySeconds", 1...86_400) {
            configuration.refusalSummaryInterval = .seconds(seconds)
        }
        if let seconds = try integer("enrollment.retryAfterSeconds", 1...86_400) {
            configuration.enrollmentRetryAfterSeconds = seconds
        }
        if let seconds = try integer("console.idleSeconds", 5...86_400) {
            configuration.consoleIdleTimeout = .seconds(seconds)
        }
        configuration.syslog = try Self.syslog(values)
        var validation = configuration.acmeValidation
        if let resolvers = lists["acme.resolvers"] { validation.resolvers = resolvers }
        validation.http01Port = try integer("acme.http01Port", 1...65535) ?? validation.http01Port
        validation.tlsALPN01Port = try integer("acme.tlsALPN01Port", 1...65535) ?? validation.tlsALPN01Port
        if let seconds = try integer("acme.validationTimeoutSeconds", 1...300) {
            validation.attemptTimeout = .seconds(seconds)
        }
        validation.attempts = try integer("acme.validationAttempts", 1...10) ?? validation.attempts
        if let seconds = try integer("acme.validationRetrySeconds", 0...600) {
            validation.retryDelay = .seconds(seconds)
        }
        validation.maxConcurrent = try integer("acme.maxConcurrentValidations", 1...4096) ?? validation.maxConcurrent
        configuration.acmeValidation = validation
        var delivery = configuration.notifications
        if let seconds = try integer("notifications.firstRetrySeconds", 1...86_400) {
            delivery.firstRetry = .seconds(seconds)
        }
        if let seconds = try integer("notifications.longestWaitSeconds", 1...604_800) {
            delivery.longestWait = .seconds(seconds)
        }
        delivery.attempts = try integer("notifications.attempts", 1...100) ?? delivery.attempts
        delivery.concurrency = try integer("notifications.concurrency", 1...256) ?? delivery.concurrency
        configuration.notifications = delivery
        if let text = values["snmp.agentx"] {
            guard let master = AgentXMaster(text) else {
                throw ConfigurationError("snmp.agentx must be tcp:host:port or a Unix socket path, not \(text)")
            }
            configuration.snmp = SNMPSettings(master: master)
        }
        if let seconds = try integer("notifications.watchEverySeconds", 1...3600) {
            configuration.operationsWatchInterval = .seconds(seconds)
        }
        if let seconds = try integer("notifications.evaluateEverySeconds", 1...86_400) {
            configuration.notificationEvaluationInterval = .seconds(seconds)
        }
        return configuration
    }
}

extension ServerConfiguration {
    /// `syslog:`: `url` (udp://, tcp:// or tls://host:port), `caFile`, `level`, `facility`, `audit`.
    static func syslog(_ values: [String: String]) throws -> SyslogSettings? {
        guard let url = values["syslog.url"] else {
            if values.keys.contains(where: { $0.hasPrefix("syslog.") }) {
                throw ConfigurationError("syslog needs url (udp://, tcp:// or tls://host:port)")
            }
            return nil
        }
        guard let destination = SyslogDestination(url: url) else {
            throw ConfigurationError("syslog.url must be udp://, tcp:// or tls://host[:port], not \(url)")
        }
        var settings = SyslogSettings(destination: destination)
        if let file = values["syslog.caFile"] {
            guard destination.transport == .tls else {
                throw ConfigurationError("syslog.caFile applies to tls:// only")
            }
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigurationError("syslog.caFile \(file) cannot be read")
            }
            settings.caFile = file
        }
        if let level = values["syslog.level"] {
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw ConfigurationError("syslog.level must be trace, debug, info, notice, warning, error or critical")
            }
            settings.level = level
        }
        if let name = values["syslog.facility"] {
            guard let facility = SyslogMessage.Facility(name: name), facility != .authpriv else {
                throw ConfigurationError("syslog.facility must be daemon or local0 to local7")
            }
            settings.facility = facility
        }
        if let audit = values["syslog.audit"] {
            guard let value = Bool(audit) else { throw ConfigurationError("syslog.audit must be true or false") }
            settings.audit = value
        }
        return settings
    }
}

/// A configuration problem, for people.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
