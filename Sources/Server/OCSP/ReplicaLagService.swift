public import Logging
public import MetadataStore
public import OCSP
public import ServiceLifecycle

/// Keeps a responder on a PostgreSQL replica from answering out of date: once a second it asks the
/// replica how far behind its primary it is, and while the replay lag exceeds `maxLag`, WAL stops
/// arriving, or the replica cannot be asked, every OCSP request gets `tryLater` (RFC 6960) instead of an
/// answer that could miss a revocation. A replica cut off from its primary notices it when the
/// connection fails, or after PostgreSQL's `wal_receiver_timeout` (60 s by default) if it just goes quiet.
public struct ReplicaLagService: Service {
    let store: PostgresBackend
    let responder: OCSPResponder
    let maxLag: Duration
    let interval: Duration
    let logger: Logger

    public init(
        store: PostgresBackend,
        responder: OCSPResponder,
        maxLag: Duration,
        interval: Duration = .seconds(1),
        logger: Logger
    ) {
        self.store = store
        self.responder = responder
        self.maxLag = maxLag
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let reason = await check()
                if reason != responder.refusedBecause {
                    if let reason {
                        logger.error("OCSP answers refused (tryLater)", metadata: ["reason": "\(reason)"])
                    } else {
                        logger.notice("the replica caught up; OCSP answers again")
                    }
                    responder.refuseAnswers(reason)
                }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// Why answers must wait, or nil.
    func check() async -> String? {
        let state: PostgresBackend.Replication?
        do { state = try await store.replication() } catch { return "the replica cannot be asked: \(error)" }
        guard let state else { return nil }
        if state.streaming == false { return "the replica receives no WAL from its primary" }
        if state.lag > maxLag { return "the replica is \(state.lag) behind its primary (limit \(maxLag))" }
        return nil
    }
}
