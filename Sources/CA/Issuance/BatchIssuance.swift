public import MetadataStore
import Signing

extension CertificateAuthority {
    /// Requests one batch may hold.
    public static let maxBatchRequests = 256

    /// Issues a certificate for each request, as `issue(ca:_:requester:)` would, and stores all of them
    /// in one durable transaction (each with its own audit entry): a production station that collects
    /// the CSRs of a tray of devices asks once instead of once per device.
    ///
    /// Each request is checked on its own (CSR signature, policy); one that fails gets its error in
    /// its place and the others are still issued. Problems with the batch as a whole (unknown or
    /// unusable CA, no requests, too many) throw, and nothing is signed. The results are in the order
    /// of the requests.
    public func issueBatch(ca id: String, _ requests: [IssueRequest], requester: Requester) async throws(CAError)
        -> [Result<IssuedCertificate, CAError>]
    {
        guard !requests.isEmpty else { throw CAError(.invalidInput, "requests: give at least one") }
        guard requests.count <= Self.maxBatchRequests else {
            throw CAError(
                .invalidInput,
                "requests: at most \(Self.maxBatchRequests) in one batch, not \(requests.count)"
            )
        }
        let authority = try await authority(id)
        try authority.requireUsable()
        let chain = try await chainDER(from: authority)

        // Checked and signed concurrently: the requests wait for the HSM together, not one by one.
        let outcomes = await withTaskGroup(of: (Int, Result<SignedCertificate, CAError>).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask { (index, await self.attempt(ca: id, request, requester: requester)) }
            }
            var outcomes: [(Int, Result<SignedCertificate, CAError>)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        var signed = [Result<SignedCertificate, CAError>?](repeating: nil, count: requests.count)
        for (index, result) in outcomes { signed[index] = result }
        let ready = signed.compactMap { result -> SignedCertificate? in
            if case .success(let certificate) = result { return certificate }
            return nil
        }

        // One transaction for all; a serial already taken (never seen, but checked) fails only its request.
        let collided: Set<[UInt8]>
        do {
            collided = try await store.write { txn in
                var collided: Set<[UInt8]> = []
                for certificate in ready {
                    guard try txn.record(CertificateRecord.self, key: certificate.record.primaryKey) == nil else {
                        collided.insert(certificate.record.serial)
                        continue
                    }
                    try txn.save(certificate.record)
                    try txn.appendAudit(certificate.audit)
                }
                return collided
            }
        } catch {
            throw CAError.from(error)
        }
        return signed.map { result in
            switch result {
            case .success(let certificate) where collided.contains(certificate.record.serial):
                .failure(CAError(.internalError, "serial number collision; try again"))
            case .success(let certificate):
                .success(
                    IssuedCertificate(record: certificate.record, certificate: certificate.certificate, chain: chain)
                )
            case .failure(let error):
                .failure(error)
            case nil:
                .failure(CAError(.internalError, "the request was not processed"))
            }
        }
    }

    /// One request of a batch checked and signed, or why not.
    private func attempt(ca id: String, _ request: IssueRequest, requester: Requester) async
        -> Result<SignedCertificate, CAError>
    {
        do throws(CAError) {
            return .success(try await sign(ca: id, request, requester: requester))
        } catch {
            return .failure(error)
        }
    }
}
