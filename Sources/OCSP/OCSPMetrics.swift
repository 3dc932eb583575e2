import Metrics

/// What signing ahead reports to the metrics backend (Prometheus under `custos serve`).
enum OCSPMetrics {
    /// Responses signed ahead by one refresh pass (a full pass means a backlog).
    static func ocspPresigned(_ count: Int) {
        Counter(label: "custos_ocsp_presigned_total").increment(by: count)
        Gauge(label: "custos_ocsp_refresh_last_pass").record(count)
    }

    /// 1 while this process holds the store lease for signing OCSP responses ahead, 0 while another does.
    static func ocspSignAheadLease(_ held: Bool) {
        Gauge(label: "custos_ocsp_sign_ahead_lease_held").record(held ? 1 : 0)
    }
}
