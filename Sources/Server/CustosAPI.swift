import ACMEValidation
public import Access
public import AgentX
public import CA
import Console
public import Enrollment
public import HSM
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
public import MetadataStore
public import Notifications
public import OCSP
public import Signing
import Upstream
public import Vault

/// The HTTP API: every route, its middleware, and the application that serves it.
public struct CustosAPI: Sendable {
    public let pool: SessionPool
    public let store: any MetadataBackend
    public let signing: SigningService
    public let credentials: Credentials
    public let codeSigner: CodeSigner
    public let authority: CertificateAuthority
    public let ocsp: OCSPResponder
    public let vault: Vault
    public let enrollment: EnrollmentService
    public let acme: ACMEService
    public let configuration: ServerConfiguration
    /// Notifications: the outbox every audited write feeds, channels and rules, delivery and schedules.
    public let outbox = NotificationOutbox()
    public let notifier: Notifier
    public let delivery: NotificationDelivery
    public let scheduler: NotificationScheduler
    /// Bulk revocations (and future actions) external systems set off with trigger credentials.
    public let actions: TriggeredActions
    /// Looks for events no request causes (HSM availability, late CRLs, CAs and OCSP signers near their end).
    public let watch: OperationsWatch
    /// The SNMP subagent, when `snmp.agentx` is configured (`SNMPService` runs it).
    public let snmp: AgentXSubagent?
    /// Requests refused for want of a credential, counted until their summary is audited.
    public let anonymousRefusals = AnonymousRefusals()
    /// The web console's templates, parsed once.
    let consolePages: ConsolePages
    /// The dashboard's certificate counts, kept and recounted in the background.
    let dashboardCounts: CertificateCounts

    /// Builds the services over a running pool and an open store.
    public init(pool: SessionPool, store raw: any MetadataBackend, configuration: ServerConfiguration) async throws {
        self.pool = pool
        // Every service writes through the outbox hook: an audited event and its notifications commit together.
        let store = NotifyingBackend(raw, outbox: outbox)
        self.store = store
        self.configuration = configuration
        // Before the services make their metric handles: handles made earlier stay no-ops.
        ServerMetrics.bootstrap()
        signing = try await SigningService(pool: pool, store: store, limits: configuration.signing)
        credentials = Credentials(store: store)
        authority = CertificateAuthority(
            signing: signing,
            store: store,
            configuration: configuration.ca,
            upstream: UpstreamConnectors(["cmp": CMPConnector(), "est": ESTConnector(), "acme": ACMEConnector()])
        )
        ocsp = OCSPResponder(
            authority: authority,
            validitySeconds: configuration.ocspValidity.components.seconds,
            maxLiveSignatures: configuration.ocspMaxLiveSignatures,
            delegatedSigners: configuration.ocspDelegatedSigners
        )
        vault = Vault(keyStore: signing.keyStore, store: store)
        consolePages = try ConsolePages()
        let counts = CertificateCounts(
            reports: CertificateReports(store: store),
            horizons: [7, 30, 90],
            maxAge: .seconds(30)
        )
        dashboardCounts = counts
        notifier = Notifier(store: raw, vault: vault)
        let notificationLogger = Logger(label: "custos.notifications")
        if let settings = configuration.snmp {
            let started = ContinuousClock.now
            let snmpLogger = Logger(label: "custos.snmp")
            snmp = AgentXSubagent(
                master: settings.master,
                subtree: CustosMIB.root,
                description: "Custos",
                events: { snmpLogger.notice("\($0)") }
            ) { await CustosMIB.view(pool: pool, counts: counts, store: raw, started: started) }
        } else {
            snmp = nil
        }
        let subagent = snmp
        delivery = NotificationDelivery(
            store: raw,
            vault: vault,
            settings: configuration.notifications,
            logger: notificationLogger,
            trap: subagent.map { agent -> @Sendable (NotificationRecord) async throws -> Void in
                { record in
                    try await agent.notify(
                        trap: CustosMIB.eventTrap,
                        [
                            VarBind(CustosMIB.eventName, .string(record.event)),
                            VarBind(CustosMIB.eventSubject, .string(record.subject)),
                            VarBind(CustosMIB.eventID, .string(record.id)),
                        ]
                    )
                }
            }
        )
        scheduler = NotificationScheduler(store: raw, logger: notificationLogger, authority: authority)
        actions = TriggeredActions(authority: authority)
        watch = OperationsWatch(
            store: store,
            token: pool.tokenInfo.label,
            ocspValiditySeconds: configuration.ocspValidity.components.seconds,
            logger: notificationLogger
        ) {
            do {
                _ = try await pool.withSession { context in try context.session.info() }
                return nil
            } catch {
                return "\(error)"
            }
        }
        enrollment = EnrollmentService(authority: authority)
        acme = ACMEService(
            enrollment: enrollment,
            validator: try ChallengeValidator(settings: configuration.acmeValidation)
        )
        codeSigner = CodeSigner(
            signing: signing,
            store: store,
            timestamps: configuration.codeSigning.timestamps.map(TimestampClient.init),
            defaultPolicy: configuration.codeSigning.timestampPolicy
        )
    }

    /// What a process serves.
    public enum Role: Sendable {
        /// Every route: the signing API, the CA, OCSP, credentials, health and metrics.
        case full
        /// `custos ocsp serve`: OCSP, health and metrics only, over the CA's store.
        case ocspResponder
    }

    /// The router with the routes of `role`.
    public func router(_ role: Role = .full) -> Router<CustosRequestContext> {
        let router = Router(context: CustosRequestContext.self)
        router.add(middleware: ObservabilityMiddleware())
        let protected = router.group().add(
            middleware: AuthenticationMiddleware(credentials: credentials, refusals: anonymousRefusals)
        )
        HealthRoutes(pool: pool, signing: signing, dataDirectory: store.directory).add(
            public: router,
            protected: protected
        )
        OCSPRoutes(responder: ocsp).add(to: router)
        guard role == .full else { return router }
        KeyRoutes(signing: signing, maxBodyBytes: configuration.maxBodyBytes).add(to: protected)
        let limiter = configuration.rateLimit.map { RateLimiter(rate: $0.signaturesPerSecond, burst: $0.burst) }
        SignatureRoutes(signing: signing, maxBodyBytes: configuration.maxBodyBytes, rateLimiter: limiter)
            .add(to: protected)
        CodeSigningRoutes(
            signer: codeSigner,
            maxBodyBytes: configuration.maxBodyBytes,
            maxArtifactBytes: configuration.codeSigning.maxArtifactBytes,
            rateLimiter: limiter
        ).add(to: protected)
        let maxBodyBytes = configuration.maxBodyBytes
        AuthorityRoutes(authority: authority, maxBodyBytes: maxBodyBytes).add(public: router, protected: protected)
        UpstreamCARoutes(authority: authority, maxBodyBytes: maxBodyBytes).add(to: protected)
        AuthorityImportRoutes(authority: authority, maxBodyBytes: maxBodyBytes).add(to: protected)
        IssuanceRoutes(authority: authority, maxBodyBytes: maxBodyBytes).add(to: protected)
        RevocationRoutes(authority: authority, maxBodyBytes: maxBodyBytes).add(public: router, protected: protected)
        PolicyRoutes(authority: authority, maxBodyBytes: maxBodyBytes).add(to: protected)
        CertificateRoutes(authority: authority, maxBodyBytes: maxBodyBytes).add(to: protected)
        OCSPSignerRoutes(
            authority: authority,
            validityDays: configuration.ocspDelegatedSigners ? configuration.ocspSignerValidityDays : nil
        ).add(to: protected)
        CredentialRoutes(credentials: credentials, store: store, maxBodyBytes: configuration.maxBodyBytes)
            .add(to: protected)
        VaultRoutes(vault: vault, maxBodyBytes: configuration.maxBodyBytes).add(to: protected)
        EnrollmentProfileRoutes(enrollment: enrollment, maxBodyBytes: maxBodyBytes).add(to: protected)
        EnrollmentRequestRoutes(enrollment: enrollment, maxBodyBytes: maxBodyBytes).add(to: protected)
        DeviceKeyRoutes(enrollment: enrollment, maxBodyBytes: maxBodyBytes).add(to: protected)
        ACMEAccountRoutes(acme: acme).add(to: protected)
        NotificationRoutes(notifier: notifier, maxBodyBytes: maxBodyBytes).add(to: protected)
        ActionRoutes(actions: actions, maxBodyBytes: maxBodyBytes).add(to: protected)
        ESTRoutes(
            enrollment: enrollment,
            overTLS: configuration.tls != nil,
            retryAfterSeconds: configuration.enrollmentRetryAfterSeconds
        ).add(to: router)
        SCEPRoutes(enrollment: enrollment).add(to: router)
        CMPRoutes(enrollment: enrollment).add(to: router)
        ACMERoutes(acme: acme, overTLS: configuration.tls != nil).add(to: router)
        let console = ConsoleSite(
            pages: consolePages,
            sessions: ConsoleSessions(credentials: credentials, store: store, idle: configuration.consoleIdleTimeout),
            overTLS: configuration.tls != nil
        )
        ConsoleRoutes(
            site: console,
            authority: authority,
            enrollment: enrollment,
            pool: pool,
            counts: dashboardCounts,
            signing: signing,
            credentials: credentials,
            vault: vault
        ).add(to: router)
        PortalRoutes(
            site: console,
            sessions: PortalSessions(enrollment: enrollment, store: store, idle: configuration.consoleIdleTimeout),
            enrollment: enrollment
        ).add(to: router)
        return router
    }

    /// The application serving `role`'s routes: HTTP/1.1, over TLS when configured. `onServerRunning`
    /// receives the bound port.
    public func application(
        logger: Logger,
        role: Role = .full,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        Application(
            router: router(role),
            server: try await serverBuilder(),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "custos"
            ),
            services: [
                RefusalAuditService(
                    refusals: anonymousRefusals,
                    credentials: credentials,
                    interval: configuration.refusalSummaryInterval,
                    logger: logger
                )
            ],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    private func serverBuilder() async throws -> HTTPServerBuilder {
        // Pre-signed OCSP answers are written by a handler of each connection before the router.
        let answers = PresignedAnswerCache(responder: ocsp)
        let limits = configuration.connections
        let counter = ConnectionCounter(limits)
        let http1 = HTTPServerBuilder { responder in
            CustosHTTP1Channel(responder: responder, ocspAnswers: answers, limits: limits, counter: counter)
        }
        guard let tls = configuration.tls else { return http1 }
        return try await .tls(http1, configuration: try TLSSetup.channelConfiguration(tls, signing: signing))
    }
}
