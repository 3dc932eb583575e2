public import HSM
public import MetadataStore
import Metrics
public import PKCS11
import Synchronization

/// The CryptoAPI's core: signs and verifies with registry keys, batching signatures across the pool.
public final class SigningService: Sendable {
    /// Limits on what one request may ask.
    public struct Limits: Sendable {
        /// Most bytes of raw data per item hashed on the server.
        public var maxDataBytes: Int
        /// Most items per batch.
        public var maxBatchItems: Int
        /// Most signatures queued for a session across all requests; beyond it requests get `overloaded`.
        public var maxQueuedSignatures: Int

        public init(maxDataBytes: Int = 64 * 1024, maxBatchItems: Int = 1000, maxQueuedSignatures: Int = 16_384) {
            self.maxDataBytes = maxDataBytes
            self.maxBatchItems = maxBatchItems
            self.maxQueuedSignatures = maxQueuedSignatures
        }
    }

    /// One item to sign: a message or a digest, and how.
    public struct SignItem: Sendable {
        public var input: SigningInput
        public var parameters: SignatureParameters
        public init(input: SigningInput, parameters: SignatureParameters = .init()) {
            self.input = input
            self.parameters = parameters
        }
    }

    /// One item to verify.
    public struct VerifyItem: Sendable {
        public var input: SigningInput
        public var signature: [UInt8]
        public var parameters: SignatureParameters
        public init(input: SigningInput, signature: [UInt8], parameters: SignatureParameters = .init()) {
            self.input = input
            self.signature = signature
            self.parameters = parameters
        }
    }

    /// A signature and how it was made.
    public struct Signature: Sendable {
        public var bytes: [UInt8]
        public var scheme: SignatureScheme
        public var encoding: SignatureEncoding?
    }

    public let keys: KeyRegistry
    public let limits: Limits
    private let keyStore: KeyStore
    private let batcher: SigningBatcher

    public init(pool: SessionPool, store: any MetadataBackend, limits: Limits = Limits()) throws {
        keyStore = KeyStore(pool: pool)
        keys = try KeyRegistry(keyStore: keyStore, store: store, tokenLabel: pool.tokenInfo.label)
        self.limits = limits
        batcher = SigningBatcher(pool: pool, capacity: limits.maxQueuedSignatures)
    }

    /// Signatures waiting for a session now.
    public var queuedSignatures: Int { batcher.queued }

    /// Signs `items` with the key `name`. Problems with the key or the request as a whole throw; a
    /// problem with one item is that item's result, and the others are signed.
    public func sign(_ name: String, _ items: [SignItem]) async throws(SigningError) -> [Result<
        Signature, SigningError
    >] {
        let key = try usableKey(name)
        try checkBatch(items.count)
        var results = [Result<Signature, SigningError>?](repeating: nil, count: items.count)
        var planned:
            [(
                index: Int, scheme: SignatureScheme, encoding: SignatureEncoding, prepared: [UInt8],
                mechanism: Mechanism
            )] = []
        planned.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                try checkInput(item.input)
                let (scheme, encoding) = try item.parameters.resolve(for: key.algorithm)
                let prepared = try Self.prepare(scheme, item.input)
                planned.append((index, scheme, encoding, prepared.data, prepared.mechanism))
            } catch {
                results[index] = .failure(SigningError.from(error))
            }
        }
        if !planned.isEmpty {
            let raw = try await signPrepared(key.reference, planned.map { ($0.mechanism, $0.prepared) })
            for (plan, outcome) in zip(planned, raw) {
                results[plan.index] = outcome.flatMap { bytes in
                    Self.encode(bytes, plan.scheme, plan.encoding, key.algorithm)
                }
            }
        }
        Counter(label: "custos_signatures_total", dimensions: [("key", name), ("algorithm", key.algorithm.rawValue)])
            .increment(by: Int64(planned.count))
        Recorder(label: "custos_sign_batch_size", aggregate: true).record(items.count)
        return results.map { $0! }
    }

    /// Verifies `items` against the key `name`'s public key. Disabled keys still verify (their past
    /// signatures stay checkable).
    public func verify(_ name: String, _ items: [VerifyItem]) async throws(SigningError) -> [Result<Bool, SigningError>]
    {
        let key = try keys.key(name)
        try checkBatch(items.count)
        var results: [Result<Bool, SigningError>] = []
        results.reserveCapacity(items.count)
        for item in items {
            do {
                try checkInput(item.input)
                let (scheme, _) = try item.parameters.resolve(for: key.algorithm)
                _ = try Self.prepare(scheme, item.input)  // digest length and Ed25519 input checks
                if case .rsa = key.publicKey, case .digest = item.input {
                    // swift-crypto takes RSA digests only as its own types: the token checks these.
                    let valid = try await keyStore.verify(
                        key.reference,
                        scheme: scheme,
                        input: item.input,
                        signature: item.signature
                    )
                    results.append(.success(valid))
                } else {
                    results.append(
                        .success(key.publicKey.isValidSignature(item.signature, scheme: scheme, input: item.input))
                    )
                }
            } catch {
                results.append(.failure(SigningError.from(error)))
            }
        }
        return results
    }

    /// Signs prepared bytes (for code signing and other in-process users), through the batcher.
    public func signRaw(_ name: String, scheme: SignatureScheme, input: SigningInput) async throws(SigningError)
        -> [UInt8]
    {
        let key = try usableKey(name)
        guard scheme.isCompatible(with: key.algorithm) else {
            throw SigningError(.unsupportedScheme, "a \(key.algorithm.rawValue) key cannot sign with \(scheme.name)")
        }
        let prepared = try Self.prepare(scheme, input)
        return try await signPrepared(key.reference, [(prepared.mechanism, prepared.data)])[0].get()
    }

    /// A key that may sign now.
    public func usableKey(_ name: String) throws(SigningError) -> SigningKey {
        let key = try keys.key(name)
        guard key.state == .active else { throw SigningError(.keyDisabled, "key \"\(name)\" is \(key.state.rawValue)") }
        return key
    }

    private func checkBatch(_ count: Int) throws(SigningError) {
        guard count > 0 else { throw SigningError(.invalidInput, "the batch is empty") }
        guard count <= limits.maxBatchItems else {
            throw SigningError(.invalidInput, "a batch has at most \(limits.maxBatchItems) items, got \(count)")
        }
    }

    private func checkInput(_ input: SigningInput) throws(SigningError) {
        if case .message(let data) = input, data.count > limits.maxDataBytes {
            throw SigningError(
                .invalidInput,
                "data has \(data.count) bytes; send a digest for inputs over \(limits.maxDataBytes) bytes"
            )
        }
    }

    private static func prepare(_ scheme: SignatureScheme, _ input: SigningInput) throws(SigningError) -> (
        mechanism: Mechanism, data: [UInt8]
    ) {
        do { return try scheme.prepare(input) } catch {
            let code: SigningError.Code = error.reason.contains("digest has") ? .invalidDigest : .invalidInput
            throw SigningError(code, error.reason)
        }
    }

    private static func encode(
        _ raw: [UInt8],
        _ scheme: SignatureScheme,
        _ encoding: SignatureEncoding,
        _ algorithm: KeyAlgorithm
    ) -> Result<Signature, SigningError> {
        guard case .ecdsa = scheme else { return .success(Signature(bytes: raw, scheme: scheme, encoding: nil)) }
        if encoding == .raw { return .success(Signature(bytes: raw, scheme: scheme, encoding: .raw)) }
        do {
            let der = try ECDSASignatureFormat.der(fromRaw: raw, algorithm: algorithm)
            return .success(Signature(bytes: der, scheme: scheme, encoding: .der))
        } catch {
            return .failure(SigningError(.hsmError, "the token returned a malformed ECDSA signature"))
        }
    }

    /// Queues prepared signatures and waits for all of them; results in order.
    private func signPrepared(_ reference: KeyReference, _ work: [(Mechanism, [UInt8])]) async throws(SigningError)
        -> [Result<[UInt8], SigningError>]
    {
        let collector = BatchCollector(count: work.count)
        do {
            return try await withUnsafeThrowingContinuation { continuation in
                collector.start(continuation)
                let pending = work.enumerated().map { index, item in
                    PendingSignature(reference: reference, mechanism: item.0, data: item.1) { result in
                        collector.complete(index, result)
                    }
                }
                do { try batcher.submit(pending) } catch { collector.abandon(SigningError.from(error)) }
            }
        } catch {
            throw SigningError.from(error)
        }
    }
}

/// Gathers a batch's results from worker threads and resumes the request once, when the last arrives.
private final class BatchCollector: Sendable {
    private struct State {
        var results: [Result<[UInt8], SigningError>?]
        var remaining: Int
        var continuation: UnsafeContinuation<[Result<[UInt8], SigningError>], any Error>?
    }
    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count)) }

    func start(_ continuation: UnsafeContinuation<[Result<[UInt8], SigningError>], any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func complete(_ index: Int, _ result: Result<[UInt8], SigningError>) {
        let finished = state.withLock {
            state -> (UnsafeContinuation<[Result<[UInt8], SigningError>], any Error>, [Result<[UInt8], SigningError>])?
            in
            state.results[index] = result
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.results.map { $0! })
        }
        if let (continuation, results) = finished { continuation.resume(returning: results) }
    }

    /// Nothing was queued: fails the request.
    func abandon(_ error: SigningError) {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(throwing: error)
    }
}
