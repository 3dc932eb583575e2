import ArgumentParser
import Foundation
import HSM
import Logging
import Server
import Syslog

/// What `custos serve` and `custos ocsp serve` share: the data directory, the token, the
/// configuration file, the listen address and logging.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Data directory; with the softhsm2 profile and no PIN option, a development token lives here.")
    var dataDir = ".custos"

    @Option(
        help: """
            The shared store of a cluster: a postgres://user@host/database URL (also store.url in the \
            configuration file, CUSTOS_STORE). Default: LMDB in the data directory.
            """
    )
    var store: String?

    @OptionGroup var profileOptions: ProfileOptions

    @Option(help: "PKCS#11 module path (default: the profile's first installed path).")
    var module: String?

    @Option(help: "Label of the token to use.")
    var token = DevEnvironment.tokenLabel

    @OptionGroup var pin: PINOptions

    @Option(help: "Pool sessions (default: the profile's).")
    var sessions: Int?

    @Option(help: "Configuration file (YAML; default: <data-dir>/custos.yaml if present).")
    var config: String?

    @Option(help: "Listen address (overrides the configuration file and CUSTOS_LISTEN_HOST).")
    var host: String?

    @Option(help: "Listen port, 0 for any free one (overrides the configuration file and CUSTOS_LISTEN_PORT).")
    var port: Int?

    @Option(help: "Log format: json (one object per line on standard error) or text.")
    var logFormat = "json"

    @Option(help: "Log level: trace, debug (adds one line per request), info, notice, warning, error.")
    var logLevel = "info"

    /// Sets up the logging system as asked and returns the service's logger; with `syslog`, every log
    /// at or above `syslogLevel` also goes to that collector.
    func bootstrapLogging(
        syslog: SyslogSender? = nil,
        syslogLevel: Logger.Level = .info,
        facility: SyslogMessage.Facility = .daemon
    ) throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
        guard logFormat == "json" || logFormat == "text" else {
            throw ValidationError("--log-format must be json or text")
        }
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            let standardError: any LogHandler
            if json {
                standardError = JSONLogHandler(label: label, level: level)
            } else {
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                standardError = handler
            }
            guard let syslog else { return standardError }
            return MultiplexLogHandler([
                standardError,
                SyslogLogHandler(label: label, sender: syslog, level: syslogLevel, facility: facility),
            ])
        }
        return Logger(label: "custos")
    }

    /// The configuration file (if any) with the environment and the listen options over it.
    func serverConfiguration() throws -> ServerConfiguration {
        var server = try ServerConfiguration.load(
            file: config
                ?? (FileManager.default.fileExists(atPath: dataDir + "/custos.yaml") ? dataDir + "/custos.yaml" : nil),
            environment: ProcessInfo.processInfo.environment
        )
        if let host { server.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
            server.port = port
        }
        return server
    }

    /// The store to open: `--store` over the configuration's `store.url` (and `CUSTOS_STORE`).
    func storeURL(_ server: ServerConfiguration) -> String? { store ?? server.storeURL }

    /// The session pool's configuration for the token options.
    func poolConfiguration() throws -> SessionPoolConfiguration {
        try custos.poolConfiguration(
            profile: try profileOptions.load(),
            module: module,
            token: token,
            pin: pin,
            sessions: sessions,
            dataDir: dataDir
        )
    }

    /// Starts the session pool with its keepalive key (found, or generated first), and reports the
    /// module, token and pool. Returns the pool and whether the keepalive key was generated now.
    func startPool(_ configuration: SessionPoolConfiguration, logger: Logger) async throws -> (
        pool: SessionPool, keepalive: KeyReference, generated: Bool
    ) {
        let bootstrap = try await SessionPool.start(configuration, logger: logger)
        let keepaliveSetup = try await KeyStore(pool: bootstrap).findOrGenerate(label: "custos-keepalive", .ecP256)
        bootstrap.shutdown()
        var withKeepalive = configuration
        withKeepalive.keepaliveKey = keepaliveSetup.reference
        let pool = try await SessionPool.start(withKeepalive, logger: logger)

        let module = pool.module
        let info = try module.info()
        let token = pool.tokenInfo
        let slot = try module.slot(tokenLabel: token.label)
        let mechanisms = try module.mechanisms(slot).sorted()
        say(
            "module \(module.path) (\(info.libraryDescription) \(info.libraryVersion), Cryptoki \(info.cryptokiVersion))"
        )
        say("token \"\(token.label)\" \(token.manufacturer) \(token.model), serial \(token.serialNumber)")
        say("\(mechanisms.count) mechanisms: \(mechanisms.map(\.name).joined(separator: " "))")
        let keepalive = withKeepalive.keepaliveInterval.map { "keepalive every \($0)" } ?? "no keepalive"
        say(
            "session pool: \(pool.configuration.sessions) sessions, wait timeout \(withKeepalive.waitTimeout), \(keepalive)"
        )
        return (pool, keepaliveSetup.reference, keepaliveSetup.generated)
    }
}
