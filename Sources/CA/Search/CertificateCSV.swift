import Codecs
import Foundation
public import MetadataStore

/// Certificates as RFC 4180 CSV, one per line (CRLF), for search results and reports: metadata as
/// `key=value` pairs joined with `;`, SANs joined with spaces.
public enum CertificateCSV {
    public static let header = "ca,serial,subject,alternative_names,category,status,not_before,not_after,metadata"

    public static func render(_ records: [CertificateRecord]) -> String {
        let formatter = ISO8601DateFormatter()
        var lines = [header]
        for record in records {
            lines.append(
                [
                    record.issuer, Hex.encode(record.serial), record.subject,
                    record.alternativeNames.joined(separator: " "), record.category, record.status.rawValue,
                    formatter.string(from: Date(timeIntervalSince1970: Double(record.notBefore) / 1e9)),
                    formatter.string(from: Date(timeIntervalSince1970: Double(record.notAfter) / 1e9)),
                    record.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";"),
                ].map(field).joined(separator: ",")
            )
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func field(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
