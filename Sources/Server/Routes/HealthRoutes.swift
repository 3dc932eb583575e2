import APIModels
import HSM
import Hummingbird
import Signing

/// Liveness, readiness and metrics.
struct HealthRoutes {
    let pool: SessionPool
    let signing: SigningService
    /// The store's data directory (LMDB), for its disk figures.
    let dataDirectory: String?

    func add(public router: Router<CustosRequestContext>, protected: RouterGroup<CustosRequestContext>) {
        router.get("v1/health") { _, _ in JSONResponse(body: HealthStatus(status: "alive")) }
        router.get("v1/ready") { _, _ in
            // A round trip through a pooled session: proves the token answers and a session is free.
            do {
                _ = try await pool.withSession { context in try context.session.info() }
            } catch {
                throw APIError(
                    .serviceUnavailable,
                    "not_ready",
                    "the HSM token is not answering: \(error)",
                    headers: [.retryAfter: "5"]
                )
            }
            return JSONResponse(
                body: HealthStatus(status: "ready", sessions: pool.configuration.sessions, token: pool.tokenInfo.label)
            )
        }
        protected.get("/metrics") { _, context in
            try context.require(.admin, .auditor)
            let text = ServerMetrics.render(
                pool: pool,
                queued: signing.queuedSignatures,
                dataDirectory: dataDirectory
            )
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }
}
