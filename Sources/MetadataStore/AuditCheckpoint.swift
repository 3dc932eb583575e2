/// A signature over the audit chain's head, made with an HSM-resident audit key. Someone who can
/// write the data file can recompute every hash of a rewritten chain, but cannot sign a new head:
/// verification checks each checkpoint's head against the chain and its signature against a public
/// key the verifier trusts (from the HSM or the operator), never one read from the file alone.
public struct AuditCheckpoint: StoredRecord, Hashable {
    public static let table = "audit-checkpoints"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// The last entry the checkpoint covers.
    public var sequence: UInt64
    /// That entry's hash.
    public var headHash: [UInt8]
    /// The signing key's name and its public key (DER SubjectPublicKeyInfo), for display.
    public var signer: String
    public var publicKey: [UInt8]
    /// ECDSA P-256 with SHA-256 over `signedBytes`, DER-encoded.
    public var signature: [UInt8]
    public var time: Int64

    public init(
        sequence: UInt64,
        headHash: [UInt8],
        signer: String,
        publicKey: [UInt8],
        signature: [UInt8],
        time: Int64
    ) {
        self.sequence = sequence
        self.headHash = headHash
        self.signer = signer
        self.publicKey = publicKey
        self.signature = signature
        self.time = time
    }

    /// The bytes a checkpoint signs: a domain label, the sequence (8 bytes big-endian) and the head hash.
    public static func signedBytes(sequence: UInt64, headHash: [UInt8]) -> [UInt8] {
        Array("custos-audit-checkpoint-v1".utf8) + Key().appending(sequence).bytes + headHash
    }

    public var signedBytes: [UInt8] { Self.signedBytes(sequence: sequence, headHash: headHash) }

    public var primaryKey: Key { Key().appending(sequence) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(sequence)
        writer.write(headHash)
        writer.write(signer)
        writer.write(publicKey)
        writer.write(signature)
        writer.write(time)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        sequence = try reader.readUInt64()
        headHash = try reader.readBytes()
        signer = try reader.readString()
        publicKey = try reader.readBytes()
        signature = try reader.readBytes()
        time = try reader.readInt64()
    }
}

extension MetadataBackend {
    /// Walks the audit chain in one snapshot.
    public func verifyAudit() async throws -> AuditVerification { try await read { try $0.verifyAudit() } }

    /// The chain's head: the last entry's sequence and hash; nil for an empty log.
    public func auditHead() async throws -> (sequence: UInt64, hash: [UInt8])? {
        try await read { try $0.auditHead() }
    }

    /// Checks the chain (as `verifyAudit()`) and every checkpoint: its head must be the hash of the
    /// entry it names, and `verifySignature` must accept its signature. Returns the first break and
    /// how many checkpoints were checked.
    public func verifyAudit(checkpoints verifySignature: (AuditCheckpoint) -> Bool) async throws -> (
        AuditVerification, checkpoints: Int
    ) {
        let (chain, checked) = try await read { try ($0.verifyAudit(), $0.checkpointsWithEntryHashes()) }
        return (AuditCheckpoint.check(checked, chain: chain, verifySignature), checked.count)
    }
}

extension Schema {
    /// `MetadataBackend.auditHead()` for code that holds the LMDB schema (maintenance commands, tests).
    public func auditHead() throws -> (sequence: UInt64, hash: [UInt8])? {
        try environment.read { try auditHead(in: $0) }
    }

    /// `MetadataBackend.verifyAudit()` for code that holds the LMDB schema.
    public func verifyAudit() throws -> AuditVerification {
        try environment.read { try LMDBReading(transaction: $0, schema: self).verifyAudit() }
    }

    /// `MetadataBackend.verifyAudit(checkpoints:)` for code that holds the LMDB schema.
    public func verifyAudit(checkpoints verifySignature: (AuditCheckpoint) -> Bool) throws -> (
        AuditVerification, checkpoints: Int
    ) {
        let (chain, checked) = try environment.read {
            let reader = LMDBReading(transaction: $0, schema: self)
            return try (reader.verifyAudit(), reader.checkpointsWithEntryHashes())
        }
        return (AuditCheckpoint.check(checked, chain: chain, verifySignature), checked.count)
    }
}

extension MetadataReading {
    /// Every checkpoint with the hash of the entry it names (nil when there is none).
    func checkpointsWithEntryHashes() throws -> [(AuditCheckpoint, [UInt8]?)] {
        try records(AuditCheckpoint.self, after: nil, limit: .max).map {
            ($0, try record(AuditEntry.self, key: Key().appending($0.sequence))?.hash)
        }
    }
}

extension AuditCheckpoint {
    /// The chain's verification with the first checkpoint that does not match its entry or whose
    /// signature `verifySignature` refuses.
    static func check(
        _ checked: [(AuditCheckpoint, [UInt8]?)],
        chain: AuditVerification,
        _ verifySignature: (AuditCheckpoint) -> Bool
    ) -> AuditVerification {
        var result = chain
        guard result.firstBroken == nil else { return result }
        for (checkpoint, entryHash) in checked {
            if entryHash != checkpoint.headHash {
                result.firstBroken = .init(
                    sequence: checkpoint.sequence,
                    reason:
                        "the signed checkpoint of entry \(checkpoint.sequence) does not match the chain (rewritten?)"
                )
                break
            }
            if !verifySignature(checkpoint) {
                result.firstBroken = .init(
                    sequence: checkpoint.sequence,
                    reason: "the checkpoint of entry \(checkpoint.sequence) has no valid signature by the audit key"
                )
                break
            }
        }
        return result
    }
}
