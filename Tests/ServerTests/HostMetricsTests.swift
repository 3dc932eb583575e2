import Foundation
import Logging
import Server
import Testing

/// `/metrics` has the host's figures (process CPU and memory, host memory, load and CPU by mode, the
/// data directory's disk) and each background job's health (whether this node holds it, when it last
/// ran), read from /proc and statvfs when scraped.
@Suite(.serialized, .stopsServers) struct HostMetricsTests {
    @Test func metricsCarryHostFiguresAndBackgroundJobHealth() async throws {
        let server = try await ServerFixture()
        // A background job as `custos serve` runs it (the CRL schedule, every second).
        let schedule = CRLScheduleService(authority: server.api.authority, logger: Logger(label: "test"))
        let running = Task { try await schedule.run() }
        defer { running.cancel() }
        func values(_ text: String) -> [String: Double] {
            var result: [String: Double] = [:]
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let value = Double(parts[1]) { result[String(parts[0])] = value }
            }
            return result
        }
        var metrics: [String: Double] = [:]
        // The jobs report once their lease is checked and they have run (the CRL schedule every second).
        for _ in 0..<150 {
            let answer = try await server.request("GET", "/metrics", token: server.adminToken)
            #expect(answer.status == 200)
            metrics = values(answer.text)
            if metrics[#"custos_background_job_last_run_timestamp_seconds{job="crl-schedule"}"#] != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect((metrics["custos_process_cpu_seconds_total"] ?? 0) > 0, "\(metrics)")
        #expect((metrics["custos_process_resident_memory_bytes"] ?? 0) > 10_000_000)
        let total = metrics["custos_host_memory_total_bytes"] ?? 0
        let available = metrics["custos_host_memory_available_bytes"] ?? 0
        #expect(total > available && available > 0, "memory \(available) of \(total)")
        #expect(metrics[#"custos_host_load{window="1m"}"#] != nil)
        #expect((metrics[#"custos_host_cpu_seconds_total{mode="idle"}"#] ?? 0) > 0)
        let disk = metrics["custos_data_directory_size_bytes"] ?? 0
        let free = metrics["custos_data_directory_available_bytes"] ?? 0
        #expect(disk > free && free > 0, "data directory \(free) of \(disk)")
        #expect(metrics[#"custos_background_job_holding{job="crl-schedule"}"#] == 1, "\(metrics.keys.sorted())")
        let ran = metrics[#"custos_background_job_last_run_timestamp_seconds{job="crl-schedule"}"#] ?? 0
        #expect(abs(ran - Date().timeIntervalSince1970) < 120, "the CRL schedule last ran at \(ran)")
        // Auditors read metrics too; signers do not.
        #expect(
            try await server.request("GET", "/metrics", token: try await server.credential(.signer, keys: ["x"])).status
                == 403
        )
        await server.stop()
    }
}
