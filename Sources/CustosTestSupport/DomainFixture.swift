public import HSM
public import MetadataStore
public import Signing

/// What the tests of the domain modules drive, without HTTP: a fresh SoftHSM2 token, a session pool
/// on it, a fresh LMDB store in a temporary directory, and the signing service over both. Each
/// module's tests build their own service (CA, vault, responder) on top.
public final class DomainFixture: Sendable {
    public let token: TestToken
    public let pool: SessionPool
    public let schema: Schema
    public let writer: StoreWriter
    public let store: LMDBBackend
    public let signing: SigningService
    /// The temporary directory of the store, also free for the test's own files.
    public let directory: String

    public init(prefix: String = "dom", sessions: Int = 2) async throws {
        token = try SoftHSMEnvironment.shared.makeToken(prefix: prefix)
        pool = try await SessionPool.start(
            SessionPoolConfiguration(
                modulePath: SoftHSMEnvironment.shared.modulePath,
                token: .label(token.label),
                pin: token.userPIN,
                sessions: sessions,
                waitTimeout: .seconds(10)
            )
        )
        directory = try makeTemporaryDirectory("custos-\(prefix)")
        (schema, writer) = try await CustosStore.open(dataDirectory: directory)
        store = LMDBBackend(schema: schema, writer: writer)
        signing = try await SigningService(pool: pool, store: store)
    }

    /// Who the tests say they are in audit entries.
    public static let requester = Requester(actor: "test", requestID: "test-request")

    /// Every audit entry so far, oldest first.
    public func auditActions() async throws -> [String] {
        try await store.read { try $0.auditEntries(after: nil, limit: .max) }.map(\.event.action)
    }

    deinit { writer.shutdown() }
}
