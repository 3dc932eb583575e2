import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// One connection to PostgreSQL driven by one dedicated thread: every call blocks that thread (never an
/// event loop or the cooperative pool) until the server answers. After the connection breaks, the next
/// call connects again.
final class PostgresSession {
    private let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let id: Int
    private var connection: PostgresConnection?
    /// Statements sent since the session was made (for the cost figures in Bench/).
    private(set) var statements = 0

    init(location: PostgresLocation, id: Int, configuration: PostgresConnection.Configuration, logger: Logger) {
        self.location = location
        self.configuration = configuration
        self.logger = logger
        self.id = id
    }

    deinit { close() }

    /// The connection settings for `location` (TLS as its `sslmode` says).
    static func configuration(_ location: PostgresLocation) throws(StoreError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch location.tls {
            case .disable: tls = .disable
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .verifyFull:
                var client = TLSConfiguration.makeClientConfiguration()
                client.trustRoots = .file(location.rootCertificates ?? "")
                tls = .require(try NIOSSLContext(configuration: client))
            }
        } catch {
            throw StoreError(code: .unavailable, reason: "cannot set up TLS to PostgreSQL: \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// The rows `sql` returns, with `binds` as its `$n` parameters.
    @discardableResult
    func rows(_ sql: String, _ binds: PostgresBindings = PostgresBindings()) throws(StoreError) -> [PostgresRow] {
        let connection = try connected()
        statements += 1
        do {
            return Array(try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).wait().rows)
        } catch {
            let mapped = Self.storeError(error)
            if mapped.code == .unavailable { drop() }
            throw mapped
        }
    }

    /// Closes the connection (a later call connects again).
    func close() {
        if let connection { try? connection.close().wait() }
        connection = nil
    }

    /// Forgets a broken connection without waiting for it. The close holds the connection until it is
    /// closed: postgres-nio requires that of every connection it deinitialises (it asserts so in debug
    /// builds, which crashed a node when PostgreSQL went away under load).
    private func drop() {
        guard let broken = connection else { return }
        connection = nil
        broken.close().whenComplete { _ in withExtendedLifetime(broken) {} }
    }

    private func connected() throws(StoreError) -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        do {
            let made = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(),
                configuration: configuration,
                id: id,
                logger: logger
            ).wait()
            connection = made
            return made
        } catch {
            throw StoreError(
                code: .unavailable,
                reason: "cannot connect to PostgreSQL at \(location): \(Self.text(error))"
            )
        }
    }

    /// A store error for what the driver or the server said: serialization failures and deadlocks are
    /// conflicts (the writer runs the transaction again), lost connections and a server shutting down
    /// make the store unavailable, a write on a hot standby is read-only.
    static func storeError(_ error: any Error) -> StoreError {
        guard let psql = error as? PSQLError else {
            return StoreError(code: .unavailable, reason: "PostgreSQL: \(error)")
        }
        if let state = psql.serverInfo?[.sqlState] {
            let message = psql.serverInfo?[.message] ?? "SQLSTATE \(state)"
            switch state {
            case "40001", "40P01": return StoreError(code: .conflict, reason: "PostgreSQL: \(message)")
            case "25006": return StoreError(code: .readOnly, reason: "PostgreSQL is read-only here: \(message)")
            case _ where state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53"):
                return StoreError(code: .unavailable, reason: "PostgreSQL: \(message)")
            default: return StoreError(code: .database, reason: "PostgreSQL (\(state)): \(message)")
            }
        }
        return StoreError(code: .unavailable, reason: "PostgreSQL: \(text(psql))")
    }

    private static func text(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return "\(error)" }
        return psql.serverInfo?[.message] ?? psql.underlying.map { "\(psql.code): \($0)" } ?? "\(psql.code)"
    }
}

extension PostgresBindings {
    /// Appends `bytes` as a `bytea` parameter.
    mutating func append(bytes: [UInt8]) { append(ByteBuffer(bytes: bytes)) }
}

extension PostgresRow {
    /// The `bytea` column at `index` as bytes.
    func bytes(_ index: Int) throws(StoreError) -> [UInt8] {
        do {
            var buffer = try makeRandomAccess()[index].decode(ByteBuffer.self)
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw StoreError(code: .invalidData, reason: "PostgreSQL answered a column that is not bytea: \(error)")
        }
    }

    /// The `boolean` column at `index`.
    func boolean(_ index: Int) throws(StoreError) -> Bool {
        do { return try makeRandomAccess()[index].decode(Bool.self) } catch {
            throw StoreError(code: .invalidData, reason: "PostgreSQL answered a column that is not boolean: \(error)")
        }
    }

    /// The `bigint` column at `index`.
    func integer(_ index: Int) throws(StoreError) -> Int64 {
        do { return try makeRandomAccess()[index].decode(Int64.self) } catch {
            throw StoreError(code: .invalidData, reason: "PostgreSQL answered a column that is not bigint: \(error)")
        }
    }
}
