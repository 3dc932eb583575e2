import Foundation

/// Where a PostgreSQL store is: a `postgres://user[:password]@host[:port]/database[?sslmode=…]` URL.
///
/// `sslmode` is `disable` (the default, for a database on the same host or a private network),
/// `require` (TLS, the server's certificate checked against the system's trust store) or `verify-full`
/// with `sslrootcert=<path>` (checked against that CA file). The password may also come from the
/// `PGPASSWORD` environment variable, so that it stays out of process listings.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Hashable {
        case disable
        case require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// A PEM file of CAs to check the server against (`sslrootcert`).
    public var rootCertificates: String?

    /// Parses a `postgres://` or `postgresql://` URL; throws a `StoreError` saying what is wrong.
    public init(url text: String, environment: [String: String]? = nil) throws(StoreError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw StoreError(code: .invalidData, reason: "a PostgreSQL store is a postgres://user@host/database URL")
        }
        guard let host = url.host, !host.isEmpty else {
            throw StoreError(code: .invalidData, reason: "the PostgreSQL URL names no host")
        }
        guard let user = url.user, !user.isEmpty else {
            throw StoreError(code: .invalidData, reason: "the PostgreSQL URL names no user (postgres://user@host/db)")
        }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(
                code: .invalidData,
                reason: "the PostgreSQL URL names no database (postgres://user@host/db)"
            )
        }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user
        self.password = url.password ?? (environment ?? ProcessInfo.processInfo.environment)["PGPASSWORD"]
        self.database = database
        var tls = TLSMode.disable
        var root: String?
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw StoreError(
                        code: .invalidData,
                        reason: "sslmode is disable, require or verify-full, not \(item.value ?? "empty")"
                    )
                }
                tls = mode
            case "sslrootcert": root = item.value
            default:
                throw StoreError(code: .invalidData, reason: "unknown PostgreSQL URL parameter \(item.name)")
            }
        }
        if tls == .verifyFull && root == nil {
            throw StoreError(code: .invalidData, reason: "sslmode=verify-full needs sslrootcert=<CA file>")
        }
        self.tls = tls
        self.rootCertificates = root
    }

    /// Whether `text` names a PostgreSQL store rather than a directory.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Host, port and database; never the password.
    public var description: String { "\(user)@\(host):\(port)/\(database)" }
}
