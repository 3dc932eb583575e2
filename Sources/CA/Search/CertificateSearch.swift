public import Foundation
public import MetadataStore

/// A search over issued and imported certificates.
public struct CertificateQuery: Sendable, Hashable {
    /// Issuing CA id.
    public var ca: String?
    public var status: CertificateRecord.Status?
    /// Serial bytes (as in the certificate).
    public var serial: [UInt8]?
    /// Case-insensitive text the subject or a SAN contains.
    public var text: String?
    /// Metadata pairs the certificate must all have.
    public var metadata: [String: String]
    public var category: String?
    /// notAfter within this window (inclusive lower, exclusive upper).
    public var expiresAfter: Date?
    public var expiresBefore: Date?

    public init(
        ca: String? = nil,
        status: CertificateRecord.Status? = nil,
        serial: [UInt8]? = nil,
        text: String? = nil,
        metadata: [String: String] = [:],
        category: String? = nil,
        expiresAfter: Date? = nil,
        expiresBefore: Date? = nil
    ) {
        self.ca = ca
        self.status = status
        self.serial = serial
        self.text = text
        self.metadata = metadata
        self.category = category
        self.expiresAfter = expiresAfter
        self.expiresBefore = expiresBefore
    }

    /// Whether `record` meets every condition.
    public func matches(_ record: CertificateRecord) -> Bool {
        if let ca, record.issuer != ca { return false }
        if let status, record.status != status { return false }
        if let serial, record.serial != serial { return false }
        if let category, record.category != category { return false }
        if let after = expiresAfter.map(Self.nanoseconds), record.notAfter < after { return false }
        if let before = expiresBefore.map(Self.nanoseconds), record.notAfter >= before { return false }
        for (key, value) in metadata where record.metadata[key] != value { return false }
        if let text = text?.lowercased(), !text.isEmpty {
            let found =
                record.subject.lowercased().contains(text)
                || record.alternativeNames.contains { $0.lowercased().contains(text) }
            if !found { return false }
        }
        return true
    }

    static func nanoseconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970 * 1e9) }
}

/// Finds certificates in the store: through the most selective index the query allows (serial,
/// metadata pair, expiry window, revoked status), else by scanning the table in key order (for a CA,
/// only its range). Results come in
/// primary-key order (CA, then serial); `cursor` is the last key of the previous page.
public struct CertificateSearch: Sendable {
    public let store: any MetadataBackend
    /// The most records one page may read when no index narrows the query.
    public var scanLimit = 200_000

    public init(store: any MetadataBackend) { self.store = store }

    /// One page of matches after `cursor`, and the cursor of the next page (nil: no more).
    public func find(_ query: CertificateQuery, after cursor: Key? = nil, limit: Int) async throws(CAError) -> (
        records: [CertificateRecord], next: Key?
    ) {
        do {
            return try await store.read { reader in
                if let candidates = try candidateKeys(query, reader) {
                    var page: [CertificateRecord] = []
                    let remaining = candidates.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
                        .filter { key in cursor.map { $0.bytes.lexicographicallyPrecedes(key.bytes) } ?? true }
                    for key in remaining {
                        guard let record = try reader.record(CertificateRecord.self, key: key), query.matches(record)
                        else { continue }
                        if page.count == limit { return (page, page.last?.primaryKey) }
                        page.append(record)
                    }
                    return (page, nil)
                }
                // No index applies: scan in key order, at most `scanLimit` records per page; for one CA only
                // its key range (primary keys start with the CA's id).
                var page: [CertificateRecord] = []
                var position = cursor
                let range = query.ca.map { CertificateRecord.position(issuer: $0) }
                if let range, position.map({ $0 < range }) ?? true { position = range }
                var scanned = 0
                while scanned < scanLimit {
                    let batch = try reader.records(
                        CertificateRecord.self,
                        after: position,
                        limit: min(1000, scanLimit - scanned)
                    )
                    for record in batch {
                        if let range, !record.primaryKey.bytes.starts(with: range.bytes) { return (page, nil) }
                        scanned += 1
                        position = record.primaryKey
                        guard query.matches(record) else { continue }
                        if page.count == limit { return (page, page.last?.primaryKey) }
                        page.append(record)
                    }
                    if batch.count < 1000 { return (page, nil) }
                }
                return (page, position)
            }
        } catch {
            throw CAError.from(error)
        }
    }

    /// Every match (for reports and bulk revocation), page by page.
    public func all(_ query: CertificateQuery, limit: Int = .max) async throws(CAError) -> [CertificateRecord] {
        var results: [CertificateRecord] = []
        var cursor: Key?
        repeat {
            let page = try await find(query, after: cursor, limit: min(10_000, limit - results.count))
            results += page.records
            cursor = page.next
        } while cursor != nil && results.count < limit
        return results
    }

    /// Keys from the most selective index for `query`, or nil when none applies.
    private func candidateKeys(_ query: CertificateQuery, _ reader: any MetadataReading) throws -> [Key]? {
        if let serial = query.serial {
            return try reader.certificateKeys(serial: serial)
        }
        if let (name, value) = query.metadata.min(by: { $0.key < $1.key }) {
            return try reader.certificateKeys(metadata: name, value: value)
        }
        if query.expiresAfter != nil || query.expiresBefore != nil {
            let lower = query.expiresAfter.map(CertificateQuery.nanoseconds) ?? Int64.min
            let upper = query.expiresBefore.map(CertificateQuery.nanoseconds) ?? Int64.max
            return try reader.certificateKeys(notAfterFrom: lower, to: upper)
        }
        if let status = query.status, status == .revoked {
            return try reader.certificateKeys(status: status)
        }
        return nil
    }
}
