import ArgumentParser
import Foundation
import HSM
import Logging
import MetadataStore
import OCSP
import PKCS11
import Server
import ServiceLifecycle
import Signing

/// `custos ocsp`: the OCSP responder as a process of its own.
struct OCSPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocsp",
        abstract: "Run the OCSP responder on its own.",
        subcommands: [OCSPServeCommand.self]
    )
}

/// `custos ocsp serve`: answers OCSP requests from the CA's store with the CA keys (or their delegated
/// signers) on the same token, so responders can be scaled out and placed in front of the CA. It
/// serves `/ocsp`, health and metrics only, keeps the pre-signed answers fresh, and leaves issuing
/// and rotating delegated signers to the CA's `custos serve`.
struct OCSPServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve OCSP (RFC 6960 / RFC 5019) from the CA's store until interrupted.",
        discussion: """
            Point --data-dir (or the store directory of a shared filesystem) at the CA's data, or --store \
            at its PostgreSQL database or a streaming replica of it (another site: reads only), and \
            --token at the token holding the CA keys. The configuration file's ocsp section applies; \
            answers carry the delegated signer when ocsp.delegatedSigners is on.
            """
    )

    @OptionGroup var service: ServiceOptions

    @Option(
        help: """
            Seconds between passes that sign answers ahead (0: never). One process on a store signs ahead \
            at a time, the CA's when it runs; this one checks at this interval whether it should take over.
            """
    )
    var refreshInterval = 5

    @Option(
        help: """
            On a PostgreSQL replica: seconds of replication lag above which every request gets tryLater \
            rather than an answer that could miss a revocation.
            """
    )
    var maxReplicaLag = 5

    func run() async throws {
        let logger = try service.bootstrapLogging()
        let server = try service.serverConfiguration()
        let configuration = try service.poolConfiguration()
        guard refreshInterval >= 0 else { throw ValidationError("--refresh-interval must be 0 or more") }
        guard maxReplicaLag > 0 else { throw ValidationError("--max-replica-lag must be at least 1") }
        let opened = try await OpenedStore.open(dataDirectory: service.dataDir, url: service.storeURL(server))
        let store = opened.backend
        say("store: \(store.location)")
        defer { opened.shutdown() }
        // From here on SIGINT/SIGTERM lead to a clean shutdown, whenever they arrive.
        let termination = TerminationSignal()
        let (pool, _, _) = try await service.startPool(configuration, logger: logger)
        let token = pool.tokenInfo
        let api = try await CustosAPI(
            pool: pool,
            store: store,
            configuration: server
        )
        // On a replica nothing can be written: the start is logged, and signing ahead is left to the
        // primary's processes, whose answers reach the replica with everything else.
        if store.isReadOnly {
            logger.notice("OCSP responder started on a read-only replica", metadata: ["token": "\(token.label)"])
            say("store is a read-only replica: answers are signed live or come from the primary's signing ahead")
        } else {
            try await audit(store, action: "ocsp.start", token: token.label)
        }
        let application = try await api.application(logger: logger, role: .ocspResponder) { port in
            let scheme = server.tls == nil ? "HTTP" : "HTTPS"
            say("serving OCSP over \(scheme) on \(server.host):\(port); press Ctrl-C to stop")
        }
        var services: [any Service] = [application]
        if let replica = store as? PostgresBackend, replica.isReadOnly {
            services.append(
                ReplicaLagService(
                    store: replica,
                    responder: api.ocsp,
                    maxLag: .seconds(maxReplicaLag),
                    logger: logger
                )
            )
        }
        if refreshInterval > 0, !store.isReadOnly {
            services.append(
                OCSPRefreshService(responder: api.ocsp, interval: .seconds(refreshInterval), logger: logger)
            )
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [], logger: logger)
        )
        let serving = Task { try await group.run() }
        if let signal = await termination.wait(orUntil: serving) {
            say("received \(signal == SIGINT ? "SIGINT" : "SIGTERM"), shutting down")
            await group.triggerGracefulShutdown()
        }
        let served = await serving.result
        if !store.isReadOnly { try await audit(store, action: "ocsp.stop", token: token.label) }
        pool.shutdown()
        say("pool served \(pool.statistics.operations) operations, \(pool.statistics.failures) failures")
        try served.get()
    }

    private func audit(_ store: any MetadataBackend, action: String, token: String) async throws {
        _ = try await store.write { txn in
            try txn.appendAudit(
                AuditEvent(actor: "custos-ocsp", action: action, object: "token/\(token)", outcome: "success")
            )
        }
    }
}
