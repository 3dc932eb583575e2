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
    /// The pool-backed key operations under the registry.
    public let keyStore: KeyStore
    private let batcher: SigningBatcher
    private let counters = Mutex<[String: Counter]>([:])
    private let batchSizes = Recorder(label: "custos_sign_batch_size", aggregate: true)

    public init(pool: SessionPool, store: any MetadataBackend, limits: Limits = Limits()) async throws {
        keyStore = KeyStore(pool: pool)
        keys = try await KeyRegistry(keyStore: keyStore, store: store, tokenLabel: pool.tokenInfo.label)
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
        let key = try await usableKey(name)
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
                try checkSize(item.input)
                let (scheme, encoding) = try item.parameters.resolve(for: key.algorithm)
                try checkDigest(item.input, for: scheme)
                let prepared = try scheme.prepare(item.input)
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
        signatureCounter(key).increment(by: Int64(planned.count))
        batchSizes.record(items.count)
        return results.map { $0! }
    }

    /// Verifies `items` against the key `name`'s public key. Disabled keys still verify (their past
    /// signatures stay checkable).
    public func verify(_ name: String, _ items: [VerifyItem]) async throws(SigningError) -> [Result<Bool, SigningError>]
    {
        let key = try await keys.key(name)
        try checkBatch(items.count)
        var results: [Result<Bool, SigningError>] = []
        results.reserveCapacity(items.count)
        for item in items {
            do {
                try checkSize(item.input)
                let (scheme, _) = try item.parameters.resolve(for: key.algorithm)
                try checkDigest(item.input, for: scheme)
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

    /// A key that may sign now.
    public func usableKey(_ name: String) async throws(SigningError) -> SigningKey {
        let key = try await keys.key(name)
        guard key.state == .active else { throw SigningError(.keyDisabled, "key \"\(name)\" is \(key.state.rawValue)") }
        return key
    }

    private func checkBatch(_ count: Int) throws(SigningError) {
        guard count > 0 else { throw SigningError(.invalidInput, "the batch is empty") }
        guard count <= limits.maxBatchItems else {
            throw SigningError(.invalidInput, "a batch has at most \(limits.maxBatchItems) items, got \(count)")
        }
    }

    private func checkSize(_ input: SigningInput) throws(SigningError) {
        if case .message(let data) = input, data.count > limits.maxDataBytes {
            throw SigningError(
                .invalidInput,
                "data has \(data.count) bytes; send a digest for inputs over \(limits.maxDataBytes) bytes"
            )
        }
    }

    /// The input checks that need no hashing: Ed25519 signs messages only, and a digest's length must
    /// match its hash. (`SignatureScheme.prepare` checks the same, but its errors cannot tell the two apart.)
    private func checkDigest(_ input: SigningInput, for scheme: SignatureScheme) throws(SigningError) {
        guard case .digest(let digest) = input else { return }
        guard let hash = scheme.hash else {
            throw SigningError(.invalidInput, "Ed25519 signs the message itself, not a digest")
        }
        guard digest.count == hash.byteCount else {
            throw SigningError(
                .invalidDigest,
                "a \(hash.rawValue) digest has \(hash.byteCount) bytes, got \(digest.count)"
            )
        }
    }

    /// The per-key signature counter, made once per key (the metrics factory's lookup is not free).
    private func signatureCounter(_ key: SigningKey) -> Counter {
        counters.withLock { counters in
            if let counter = counters[key.name] { return counter }
            let counter = Counter(
                label: "custos_signatures_total",
                dimensions: [("key", key.name), ("algorithm", key.algorithm.rawValue)]
            )
            counters[key.name] = counter
            return counter
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
