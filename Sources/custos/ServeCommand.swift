import Access
import ArgumentParser
import Dispatch
import Foundation
import HSM
import Logging
import MetadataStore
import Notifications
import OCSP
import PKCS11
import Server
import ServiceLifecycle
import Signing
import Synchronization
import Syslog

/// `custos serve`: starts the session pool on the configured token and serves the HTTP API until
/// SIGINT/SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Start Custos on an HSM token and serve until interrupted."
    )

    @OptionGroup var service: ServiceOptions

    @Option(
        help:
            "Also send audit entries to this syslog collector: host[:port] (RFC 5424 over UDP), or udp://, tcp:// or tls://host:port."
    )
    var syslog: String?

    @Option(help: "Seconds between signed audit checkpoints (also written at start and stop).")
    var checkpointInterval = 600

    func run() async throws {
        let server = try service.serverConfiguration()
        // The collector of the configuration file (operational logs, and audit entries unless switched
        // off); --syslog adds one for audit entries only, over UDP.
        let logSender = try server.syslog.map { settings in
            try SyslogSender(destination: settings.destination, tls: try Self.syslogTLS(settings))
        }
        let logger = try service.bootstrapLogging(
            syslog: logSender,
            syslogLevel: server.syslog.flatMap { Logger.Level(rawValue: $0.level) } ?? .info,
            facility: server.syslog?.facility ?? .daemon
        )
        let configuration = try service.poolConfiguration()
        let dataDir = service.dataDir
        let token = service.token

        var auditSenders: [SyslogSender] = []
        if let logSender, server.syslog?.audit == true { auditSenders.append(logSender) }
        if let syslog {
            guard let destination = SyslogDestination(url: syslog.contains("://") ? syslog : "udp://\(syslog)") else {
                throw ValidationError("--syslog takes host[:port] (UDP) or udp://, tcp:// or tls://host:port")
            }
            auditSenders.append(try SyslogSender(destination: destination))
        }
        for sender in [logSender].compactMap({ $0 }) + auditSenders { ServerMetrics.watch(sender) }
        let sinks: [@Sendable ([AuditEntry]) -> Void] = auditSenders.map { AuditSyslog.sink($0) }
        var forward: (@Sendable ([AuditEntry]) -> Void)?
        if !sinks.isEmpty {
            forward = { entries in
                for sink in sinks { sink(entries) }
            }
        }
        let opened = try await OpenedStore.open(
            dataDirectory: dataDir,
            url: service.storeURL(server),
            auditSink: forward
        )
        let backend = opened.backend
        guard !backend.isReadOnly else {
            opened.shutdown()
            throw CLIError(
                "refusing to start: \(backend.location) cannot be written; custos serve needs the primary "
                    + "(custos ocsp serve answers from a replica)"
            )
        }
        let audit: AuditVerification
        do { audit = try await backend.verifyAudit() } catch {
            opened.shutdown()
            throw error
        }
        if let broken = audit.firstBroken {
            opened.shutdown()
            throw CLIError("refusing to start: audit chain broken at entry \(broken.sequence): \(broken.reason)")
        }
        say(
            "store: \(backend.location), schema version \(Schema.currentVersion), \(audit.entries) audit entries, chain intact"
        )
        do {
            try await serve(configuration, server: server, store: backend, logger: logger)
        } catch let error as HSMError where error.code == .loginFailed {
            // A rejected PIN is a security event: record it before giving up.
            let outcome = "failure: " + (error.underlying?.returnValue?.name ?? "login rejected")
            _ = try? await backend.write { txn in
                try txn.appendAudit(
                    AuditEvent(actor: "custos", action: "hsm.login", object: "token/\(token)", outcome: outcome)
                )
            }
            opened.shutdown()
            throw error
        } catch {
            opened.shutdown()
            throw error
        }
        opened.shutdown()
        // Every reference to the module is gone: it was finalized exactly once on the way out.
        let modulePath = configuration.modulePath
        say("stopped; PKCS#11 module \(Module.isLoaded(path: modulePath) ? "still loaded" : "finalized")")
    }

    private func serve(
        _ configuration: SessionPoolConfiguration,
        server: ServerConfiguration,
        store backend: any MetadataBackend,
        logger: Logger
    ) async throws {
        // From here on SIGINT/SIGTERM lead to a clean shutdown, whenever they arrive.
        let termination = TerminationSignal()
        let (pool, keepaliveKey, keepaliveGenerated) = try await service.startPool(configuration, logger: logger)
        let token = pool.tokenInfo

        // Checkpoints are checked against the audit key as the HSM reports it, not as the file says.
        let checkpointer = try await AuditCheckpointer.prepare(KeyStore(pool: pool))
        let (verified, checkpoints) = try await backend.verifyAudit(checkpoints: checkpointer.verifier())
        if let broken = verified.firstBroken {
            pool.shutdown()
            throw CLIError("refusing to start: audit entry \(broken.sequence): \(broken.reason)")
        }
        say(
            "audit: \(checkpoints) signed checkpoints verified with the HSM audit key \"\(AuditCheckpointer.keyLabel)\""
        )
        let exported = service.dataDir + "/audit-public-key.pem"
        try checkpointer.publicKey.pemRepresentation.write(toFile: exported, atomically: true, encoding: .utf8)
        say("audit key's public half in \(exported); keep a copy elsewhere for `custos audit verify --public-key`")
        let generatedKeys = [(keepaliveGenerated, keepaliveKey), (checkpointer.generated, checkpointer.key)]
            .filter(\.0).map(\.1)
        try await backend.write { txn in
            for key in generatedKeys {
                let object = "token/\(token.label)/\(key.label)"
                try txn.appendAudit(
                    AuditEvent(actor: "custos", action: "key.generate", object: object, outcome: "success")
                )
            }
            try txn.appendAudit(
                AuditEvent(
                    actor: "custos",
                    action: "service.start",
                    object: "token/\(token.label)",
                    outcome: "success"
                )
            )
        }
        try await checkpointer.checkpoint(backend)

        let api = try await CustosAPI(pool: pool, store: backend, configuration: server)
        try await bootstrapAdministrator(api.credentials)
        // A KEK rotation cut short by the last stop carries on in the background (and, on a shared store,
        // one cut short by a node that died: the vault-reencryption job below).
        await api.vault.resumeRotations()
        say("signing keys in the store: \(await api.signing.keys.list(after: nil, limit: .max).count)")
        let application = try await api.application(logger: logger) { port in
            let scheme = server.tls == nil ? "HTTP" : server.tls?.clientCAPath == nil ? "HTTPS" : "HTTPS (mTLS)"
            say("serving \(scheme) on \(server.host):\(port); press Ctrl-C to stop")
        }
        // SNMP: CUSTOS-MIB through snmpd's AgentX master, when configured.
        let snmp: [any Service] = api.snmp.map { [SNMPService(subagent: $0)] } ?? []
        let services = ServiceGroup(
            configuration: .init(
                services: snmp + [
                    application, CRLScheduleService(authority: api.authority, logger: logger),
                    // Periodic signed checkpoints of the audit chain: one node at a time.
                    LeasedJobService(
                        name: "audit-checkpoint",
                        store: backend,
                        interval: .seconds(checkpointInterval),
                        logger: logger
                    ) {
                        do { try await checkpointer.checkpoint(backend) } catch {
                            logger.error("an audit checkpoint failed", metadata: ["reason": "\(error)"])
                        }
                    },
                    LeasedJobService(name: "vault-reencryption", store: backend, interval: .seconds(30), logger: logger)
                    {
                        await api.vault.resumeRotations()
                    },
                    // The notification outbox: one node delivers what is due; one evaluates expiry and reports.
                    LeasedJobService(
                        name: "notification-delivery",
                        store: backend,
                        interval: .seconds(1),
                        logger: logger
                    ) {
                        do { try await api.delivery.deliverDue() } catch {
                            logger.warning(
                                "the notification outbox could not be read",
                                metadata: ["reason": "\(error)"]
                            )
                        }
                    },
                    LeasedJobService(
                        name: "notification-evaluation",
                        store: backend,
                        interval: server.notificationEvaluationInterval,
                        logger: logger
                    ) {
                        do { try await api.scheduler.run() } catch {
                            logger.error("notification rules could not be evaluated", metadata: ["reason": "\(error)"])
                        }
                    },
                    LeasedJobService(
                        name: "operations-watch",
                        store: backend,
                        interval: server.operationsWatchInterval,
                        logger: logger
                    ) { await api.watch.check() },
                    EnrollmentCleanupService(acme: api.acme, logger: logger),
                    UpstreamRetryService(enrollment: api.enrollment, logger: logger),
                    OCSPRefreshService(
                        responder: api.ocsp,
                        signerValidityDays: server.ocspDelegatedSigners ? server.ocspSignerValidityDays : nil,
                        // Before any `custos ocsp serve` on the same store: this pool sees the issuance.
                        leaseRank: 1,
                        logger: logger
                    ),
                ],
                gracefulShutdownSignals: [],
                logger: logger
            )
        )
        let serving = Task { try await services.run() }
        let signal = await termination.wait(orUntil: serving)
        if let signal {
            say("received \(signal == SIGINT ? "SIGINT" : "SIGTERM"), shutting down")
            await services.triggerGracefulShutdown()
        }
        let served = await serving.result
        _ = try await backend.write { txn in
            try txn.appendAudit(
                AuditEvent(actor: "custos", action: "service.stop", object: "token/\(token.label)", outcome: "success")
            )
        }
        try await checkpointer.checkpoint(backend)
        pool.shutdown()
        let statistics = pool.statistics
        say("pool served \(statistics.operations) operations, \(statistics.failures) failures")
        try served.get()
    }

    /// On a data directory without an administrator, creates one and leaves its credential in
    /// `<data-dir>/admin.token` (0600) for the operator to pick up (and move somewhere safer).
    private func bootstrapAdministrator(_ credentials: Credentials) async throws {
        guard try await !credentials.list().contains(where: { $0.role == .admin && !$0.revoked }) else { return }
        let path = service.dataDir + "/admin.token"
        let (record, secret) = try await credentials.create(
            role: .admin,
            keyPatterns: [],
            requester: Requester(actor: "custos")
        )
        unlink(path)  // a token file left from an earlier, since revoked administrator
        try writeSecretFile(path, secret + "\n")
        say("created administrator credential \(record.id); its bearer token is in \(path) (mode 0600)")
    }
}

/// The pool configuration for a profile and the token options: with the softhsm2 profile and no PIN
/// option, the development token under `dataDir` (created on first use).
func poolConfiguration(
    profile: HSMProfile,
    module: String?,
    token: String,
    pin: PINOptions,
    sessions: Int?,
    dataDir: String
) throws -> SessionPoolConfiguration {
    guard let modulePath = module ?? profile.installedModulePath else {
        throw CLIError(
            "no module of profile \(profile.name) is installed (looked at \(profile.module.paths.joined(separator: ", ")))"
        )
    }
    var pinSource = try pin.source
    if pinSource == nil && profile.name == "softhsm2" {
        let development = DevEnvironment(dataDirectory: dataDir)
        for line in try development.prepare(modulePath: modulePath) { say(line) }
        pinSource = .file(development.userPINPath)
    }
    return SessionPoolConfiguration(
        modulePath: modulePath,
        token: .label(token),
        pin: try pinSource?.read(),
        userType: profile.login.pkcs11UserType ?? .user,
        sessions: min(sessions ?? profile.pool.sessions, profile.sessions.maxSessions ?? .max),
        waitTimeout: .milliseconds(profile.pool.waitTimeoutMilliseconds),
        keepaliveInterval: profile.pool.keepaliveSeconds.map { .seconds($0) }
    )

}
