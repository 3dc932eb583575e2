import CoreMetrics
import Foundation
import Glibc

/// The host's figures for `/metrics`, read when it is scraped: the process's CPU time and resident
/// memory, the host's memory, load and CPU time by mode, and the free and total bytes of the store's
/// data directory (LMDB only: PostgreSQL's disk is the database server's).
enum HostMetrics {
    static func record(dataDirectory: String?) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        if let stat = text("/proc/self/stat"), let end = stat.lastIndex(of: ")") {
            // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: end)...].split(separator: " ")
            if fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]), ticks > 0 {
                Gauge(label: "custos_process_cpu_seconds_total").record((user + system) / ticks)
            }
        }
        let status = pairs(text("/proc/self/status"))
        if let resident = status["VmRSS"] { Gauge(label: "custos_process_resident_memory_bytes").record(resident) }
        let memory = pairs(text("/proc/meminfo"))
        if let total = memory["MemTotal"] { Gauge(label: "custos_host_memory_total_bytes").record(total) }
        if let available = memory["MemAvailable"] {
            Gauge(label: "custos_host_memory_available_bytes").record(available)
        }
        if let load = text("/proc/loadavg")?.split(separator: " "), load.count >= 3 {
            for (index, window) in ["1m", "5m", "15m"].enumerated() {
                if let value = Double(load[index]) {
                    Gauge(label: "custos_host_load", dimensions: [("window", window)]).record(value)
                }
            }
        }
        if let line = text("/proc/stat")?.split(separator: "\n").first, line.hasPrefix("cpu "), ticks > 0 {
            let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            for (index, mode) in ["user", "nice", "system", "idle", "iowait"].enumerated() where index < values.count {
                Gauge(label: "custos_host_cpu_seconds_total", dimensions: [("mode", mode)]).record(
                    values[index] / ticks
                )
            }
        }
        if let dataDirectory {
            var info = statvfs()
            if statvfs(dataDirectory, &info) == 0 {
                let block = Double(info.f_frsize)
                Gauge(label: "custos_data_directory_size_bytes").record(Double(info.f_blocks) * block)
                Gauge(label: "custos_data_directory_available_bytes").record(Double(info.f_bavail) * block)
            }
        }
    }

    private static func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    /// `Name:   1234 kB` lines as bytes (values without a unit as they are).
    private static func pairs(_ text: String?) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in (text ?? "").split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let parts = line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let number = parts.first.flatMap({ Double($0) }) else { continue }
            result[String(line[..<colon])] = parts.count > 1 && parts[1] == "kB" ? number * 1024 : number
        }
        return result
    }
}
