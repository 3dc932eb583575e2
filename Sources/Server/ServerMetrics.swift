import CA
import CoreMetrics
import HSM
import Metrics
import OCSP
import Prometheus
import Synchronization
public import Syslog

/// Prometheus metrics for the process. swift-metrics has one factory per process, so the registry is
/// set up once and shared by every server the process runs (tests run several).
public enum ServerMetrics {
    private static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        factory.defaultValueHistogramBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// Makes sure the factory is in place before the first metric is created.
    static func bootstrap() { _ = registry }

    private static let syslogSenders = Mutex<[SyslogSender]>([])

    /// Reports `sender`'s counts (sent, dropped from a full queue, failed sends) in `/metrics`.
    public static func watch(_ sender: SyslogSender) {
        syslogSenders.withLock { senders in
            if !senders.contains(where: { $0 === sender }) { senders.append(sender) }
        }
    }

    /// The exposition text, with the pool's current figures.
    static func render(pool: SessionPool, queued: Int, dataDirectory: String? = nil) -> String {
        HostMetrics.record(dataDirectory: dataDirectory)
        for sender in syslogSenders.withLock({ $0 }) {
            let statistics = sender.statistics
            let dimensions = [("destination", sender.destination.description)]
            Gauge(label: "custos_syslog_messages_sent", dimensions: dimensions).record(statistics.sent)
            Gauge(label: "custos_syslog_messages_dropped", dimensions: dimensions).record(statistics.dropped)
            Gauge(label: "custos_syslog_send_failures", dimensions: dimensions).record(statistics.failures)
        }
        let statistics = pool.statistics
        Gauge(label: "custos_hsm_sessions_open").record(statistics.sessionsOpen)
        Gauge(label: "custos_hsm_sessions_in_use").record(statistics.inUse)
        Gauge(label: "custos_hsm_waiters").record(statistics.waiters)
        Gauge(label: "custos_hsm_operations").record(statistics.operations)
        Gauge(label: "custos_hsm_failures").record(statistics.failures)
        Gauge(label: "custos_hsm_timeouts").record(statistics.timeouts)
        Gauge(label: "custos_hsm_keepalives").record(statistics.keepalives)
        Gauge(label: "custos_hsm_wait_seconds_max").record(Double(statistics.maxWait.nanoseconds) / 1e9)
        Gauge(label: "custos_signatures_queued").record(queued)
        for (name, count) in statistics.errors {
            Gauge(label: "custos_hsm_errors", dimensions: [("rv", name)]).record(count)
        }
        for (kind, count) in statistics.recoveries {
            Gauge(label: "custos_hsm_recoveries", dimensions: [("kind", kind)]).record(count)
        }
        return registry.emitToString()
    }

    private static let ocspCounters = Mutex<[String: CoreMetrics.Counter]>([:])

    /// One OCSP answer: by OCSP status and by source (pre-signed, live, error), and how long a live
    /// one took (the HSM signature included).
    /// Counts a refused request, with or without a valid credential (`status` 401 or 403).
    static func accessDenied(status: Int) { (status == 401 ? deniedUnauthenticated : deniedForbidden).increment() }

    /// The client connections open now.
    static func connectionsOpen(_ count: Int) { openConnections.record(count) }

    /// Counts a connection closed on acceptance because the server or its client has as many as allowed.
    static func connectionRefused() { refusedConnections.increment() }

    /// Counts a connection closed for taking too long over a request's `part` (header, body, idle).
    static func connectionTimedOut(_ part: String) {
        Counter(label: "custos_connections_timed_out", dimensions: [("part", part)]).increment()
    }

    // Made once, after the factory is in place (a handle made before it stays a no-op).
    private static let deniedUnauthenticated = handle {
        Counter(label: "custos_access_denied", dimensions: [("status", "401")])
    }
    private static let deniedForbidden = handle {
        Counter(label: "custos_access_denied", dimensions: [("status", "403")])
    }
    private static let openConnections = handle { Gauge(label: "custos_connections_open") }
    private static let refusedConnections = handle { Counter(label: "custos_connections_refused") }

    private static func handle<Metric>(_ make: () -> Metric) -> Metric {
        bootstrap()
        return make()
    }

    static func ocspAnswered(_ answer: OCSPResponder.Answer, duration: Duration) {
        // Made once per status and source: making a counter looks it up in the registry under a lock,
        // which cost as much as reading the stored answer.
        let key = "\(answer.status.rawValue)/\(answer.source.rawValue)"
        let counter = ocspCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "custos_ocsp_responses_total",
                dimensions: [("status", answer.status.description), ("source", answer.source.rawValue)]
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
        if answer.source == .live {
            Timer(label: "custos_ocsp_live_signing_seconds").recordNanoseconds(
                duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
            )
        }
    }
}
