import Access
import Logging
import ServiceLifecycle

/// Writes the summary of anonymous refusals (`AnonymousRefusals`) to the audit log every `interval`,
/// and once more when the server stops, so that what was counted is never lost with the process.
struct RefusalAuditService: Service {
    let refusals: AnonymousRefusals
    let credentials: Credentials
    let interval: Duration
    let logger: Logger

    func run() async throws {
        // The loop is cancelled at graceful shutdown; the last summary is written after it either way.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await flush()
            }
        }
        await flush()
    }

    /// Writes what was counted since the last summary.
    func flush() async {
        let summary = refusals.drain()
        guard !summary.isEmpty else { return }
        do { try await credentials.recordRefusals(summary) } catch {
            logger.error(
                "cannot write the summary of refused requests to the audit log",
                metadata: ["refused": "\(summary.total)", "error": "\(error)"]
            )
        }
    }
}
