import CustosTestSupport
import Foundation
import HSM
import Logging
import MetadataStore
import PKCS11
import Server
import ServiceLifecycle
import Signing
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The real server on a free loopback port, over a fresh SoftHSM2 token and a fresh LMDB store, with
/// an administrator credential. Requests go over real HTTP.
final class ServerFixture: Sendable {
    let module: Module
    let pool: SessionPool
    let api: CustosAPI
    let writer: StoreWriter
    let schema: Schema
    let port: Int
    let adminToken: String
    let directory: String
    private let services: ServiceGroup
    private let serving: Task<Void, any Error>

    init(
        modulePath: String = SoftHSMEnvironment.shared.modulePath,
        configuration: ServerConfiguration = ServerConfiguration(port: 0),
        sessions: Int = 2,
        beforeServing prepare: (CustosAPI) async throws -> Void = { _ in }
    ) async throws {
        module = try Module.load(path: modulePath)
        let token = try SoftHSMEnvironment.shared.makeToken(prefix: "api", on: module)
        pool = try await SessionPool.start(
            SessionPoolConfiguration(
                modulePath: modulePath,
                token: .label(token.label),
                pin: token.userPIN,
                sessions: sessions,
                waitTimeout: .seconds(10)
            )
        )
        directory = try makeTemporaryDirectory("custos-api")
        (schema, writer) = try await CustosStore.open(dataDirectory: directory)
        let store = LMDBBackend(schema: schema, writer: writer)
        var configuration = configuration
        configuration.port = 0
        api = try await CustosAPI(pool: pool, store: store, configuration: configuration)
        adminToken = try await api.credentials.create(
            role: .admin,
            keyPatterns: [],
            requester: Requester(actor: "test")
        )
        .secret
        try await prepare(api)
        var logger = Logger(label: "custos-test")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = try await api.application(logger: logger) { port in continuation.yield(port) }
        services = ServiceGroup(
            configuration: .init(services: [application], gracefulShutdownSignals: [], logger: logger)
        )
        serving = Task { [services] in try await services.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestFailure("the server did not start") }
        self.port = port
        StartedServers.current?.add(self)
    }

    deinit {
        serving.cancel()
    }

    /// Stops the server, the pool and the store writer.
    func stop() async {
        await services.triggerGracefulShutdown()
        _ = await serving.result
        pool.shutdown()
        writer.shutdown()
    }

    /// A credential of `role` (signers get `keys`).
    func credential(_ role: CredentialRecord.Role, keys: [String] = []) async throws -> String {
        try await api.credentials.create(role: role, keyPatterns: keys, requester: Requester(actor: "test")).secret
    }

    /// Creates a key through the API as the administrator.
    @discardableResult
    func createKey(_ name: String, _ algorithm: String) async throws -> HTTPResult {
        let result = try await request(
            "POST",
            "/v1/keys",
            token: adminToken,
            json: ["name": name, "algorithm": algorithm]
        )
        #expect(result.status == 201, "creating \(name): \(result.text)")
        return result
    }

    func request(_ method: String, _ path: String, token: String?, json: Any) async throws -> HTTPResult {
        try await request(method, path, token: token, body: try JSONSerialization.data(withJSONObject: json))
    }

    func request(
        _ method: String,
        _ path: String,
        token: String?,
        body: Data? = nil,
        contentType: String = "application/json",
        headers extraHeaders: [String: String] = [:]
    ) async throws -> HTTPResult {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in extraHeaders { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            headers[String(describing: name).lowercased()] = String(describing: value)
        }
        return HTTPResult(status: http.statusCode, headers: headers, body: data)
    }
}

/// Stops the servers a test started when the test ends, whether it passed, failed or threw, so that
/// no pool thread is still inside the PKCS#11 module when the test process exits.
struct StopsServers: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let started = StartedServers()
        try await StartedServers.$current.withValue(started) {
            do { try await function() } catch {
                await started.stopAll()
                throw error
            }
            await started.stopAll()
        }
    }
}

extension Trait where Self == StopsServers {
    /// Every `ServerFixture` a test starts is stopped when the test ends.
    static var stopsServers: Self { StopsServers() }
}

/// The servers started in the current test's scope.
final class StartedServers: Sendable {
    @TaskLocal static var current: StartedServers?
    private let servers = Mutex<[ServerFixture]>([])

    func add(_ server: ServerFixture) { servers.withLock { $0.append(server) } }

    func stopAll() async {
        for server in servers.withLock({ servers in
            defer { servers = [] }; return servers
        }) { await server.stop() }
    }
}

struct HTTPResult {
    var status: Int
    var headers: [String: String]
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    /// `error.code` of an error body.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    /// `error.message` of an error body.
    var errorMessage: String { (json["error"] as? [String: Any])?["message"] as? String ?? "" }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes `contents` to a new file in `directory` and returns its path.
func writeFile(_ directory: String, _ name: String, _ contents: Data) throws -> String {
    let path = directory + "/" + name
    try contents.write(to: URL(fileURLWithPath: path))
    return path
}

extension Data {
    init(base64 text: Any?) throws {
        guard let text = text as? String, let data = Data(base64Encoded: text) else {
            throw TestFailure("not base64: \(String(describing: text))")
        }
        self = data
    }
}
