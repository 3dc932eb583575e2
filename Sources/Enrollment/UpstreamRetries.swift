import CA
import Foundation
import MetadataStore

/// Requests a profile held because its upstream CA could not be reached (`whenUpstreamUnavailable:
/// hold`) are sent to that CA again in the background until it answers; their clients poll meanwhile, as
/// they would for an officer's approval, and get the certificate (or the upstream's refusal) at their
/// next poll.
extension EnrollmentService {
    /// What one round of retries did.
    public struct UpstreamRetryRound: Sendable, Hashable {
        public var issued = 0
        public var waiting = 0
        public var rejected = 0

        public init() {}
    }

    /// Sends the requests waiting for an upstream CA (oldest first, at most `limit`) to it again. An
    /// issued request is answered at the client's next poll; a refusal rejects the request with the
    /// upstream's reason (audited as `enrollment.reject` by `upstream-retry`); a CA still unreachable
    /// leaves the request waiting with the new error.
    public func retryRequestsAwaitingUpstream(limit: Int = 100) async throws(EnrollmentError) -> UpstreamRetryRound {
        let waiting: [EnrollmentRequestRecord]
        do {
            waiting = try await store.read { reader in
                try reader.enrollmentRequests(state: .pending, after: nil, limit: 100_000)
            }
            .filter(\.awaitingUpstream).sorted { $0.created < $1.created }.prefix(limit).map { $0 }
        } catch {
            throw EnrollmentError.from(error)
        }
        var round = UpstreamRetryRound()
        let requester = Requester(actor: "upstream-retry", requestID: nil)
        for request in waiting {
            do {
                _ = try await issue(held: request, requester: requester, action: "enrollment.upstream-retry")
                round.issued += 1
            } catch {
                switch error.code {
                case .upstreamUnavailable, .unavailable: round.waiting += 1
                case .alreadyDecided: continue
                case .internalError: throw error
                default:
                    let reason = Self.bounded("upstream CA refused: \(error.message)", bytes: 512)
                    do {
                        _ = try await reject(request.id, reason: reason, requester: requester)
                        round.rejected += 1
                    } catch  where error.code == .alreadyDecided {
                        continue
                    }
                }
            }
        }
        return round
    }

    /// Marks a held request as waiting for its upstream CA, with why the last attempt failed.
    func noteUpstreamFailure(of id: String, _ message: String) async {
        _ = try? await store.write { txn in
            guard var current = try txn.enrollmentRequest(id: id), current.state == .pending else { return }
            current.awaitingUpstream = true
            current.upstreamError = Self.bounded(message, bytes: 512)
            try txn.save(current)
        }
    }

    /// `text` cut to at most `bytes` UTF-8 bytes, at a character boundary.
    static func bounded(_ text: String, bytes: Int) -> String {
        var count = 0
        return String(
            text.prefix { character in
                count += character.utf8.count
                return count <= bytes
            }
        )
    }
}
