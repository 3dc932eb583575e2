import CA
import Foundation
public import Logging
import MetadataStore
public import ServiceLifecycle

/// Keeps the OCSP responses signed ahead fresh while the server runs: every few seconds, responses
/// past half their validity are signed again and certificates without one get one, a bounded number
/// per pass so that live requests keep most of the HSM.
///
/// Signing for new certificates steps aside while live requests use the HSM pool (a pool job in the
/// last `liveWindow`): during a burst of issuance each certificate would otherwise cost two more
/// signatures at once. So that steady live traffic cannot put it off for ever, after
/// `maxDeferredPasses` passes in a row that stepped aside one pass signs without waiting.
///
/// With `signerValidityDays` (the CA's process, when delegated signers are on) each pass first
/// rotates the delegated OCSP signers that are due; `custos ocsp serve` leaves that to the CA.
///
/// Processes that share a store (`custos serve` and any number of `custos ocsp serve` on one data
/// directory) take turns: only the holder of the store lease `ocsp-sign-ahead` runs passes, the others
/// check every `interval` and take over when it stops or hangs (its lease expires after `leaseTerm`).
/// The CA's process has the higher `leaseRank` and takes the lease at once: its pool sees the
/// issuance that signing ahead steps aside for.
public struct OCSPRefreshService: Service {
    /// The name of the store lease.
    public static let leaseName = "ocsp-sign-ahead"

    let responder: OCSPResponder
    let interval: Duration
    let liveWindow: Duration
    let maxDeferredPasses: Int
    let signerValidityDays: Int?
    let lease: StoreLease
    let logger: Logger

    public init(
        responder: OCSPResponder,
        interval: Duration = .seconds(5),
        liveWindow: Duration = .milliseconds(250),
        maxDeferredPasses: Int = 12,
        signerValidityDays: Int? = nil,
        leaseRank: Int64 = 0,
        leaseTerm: Duration = .seconds(30),
        logger: Logger = Logger(label: "custos.ocsp")
    ) {
        self.responder = responder
        self.interval = interval
        self.liveWindow = liveWindow
        self.maxDeferredPasses = maxDeferredPasses
        self.signerValidityDays = signerValidityDays
        self.lease = StoreLease(
            name: Self.leaseName,
            rank: leaseRank,
            term: max(leaseTerm, interval * 3),
            store: responder.authority.store
        )
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var deferredPasses = 0
            var holding: Bool?
            while !Task.isCancelled {
                let held = await holdLease()
                if held != holding {
                    holding = held
                    OCSPMetrics.ocspSignAheadLease(held)
                    logger.notice(
                        held
                            ? "this process signs OCSP responses ahead"
                            : "another process on this store signs OCSP responses ahead",
                        metadata: ["lease": "\(Self.leaseName)", "holder": "\(lease.holder)"]
                    )
                }
                guard held else {
                    try? await Task.sleep(for: interval)
                    continue
                }
                if let signerValidityDays { await rotateSigners(validityDays: signerValidityDays) }
                let pass = await responder.refresh(
                    limit: 1_000,
                    deferringNew: deferredPasses < maxDeferredPasses ? liveWindow : nil
                )
                deferredPasses = pass.deferred ? deferredPasses + 1 : 0
                if let failure = pass.failure {
                    logger.error("an OCSP refresh pass stopped early", metadata: ["reason": "\(failure)"])
                }
                OCSPMetrics.ocspPresigned(pass.signed)
                // A full pass means there is more to do: go on at once.
                if pass.signed < 1_000 { try? await Task.sleep(for: interval) }
            }
        }
        // So that another process takes over at its next check rather than after the term.
        do { try await lease.release() } catch {
            logger.warning("the OCSP sign-ahead lease could not be released", metadata: ["reason": "\(error)"])
        }
    }

    /// Takes or renews the lease; a store that cannot be written counts as not held.
    private func holdLease() async -> Bool {
        do { return try await lease.hold() } catch {
            logger.error("the OCSP sign-ahead lease could not be taken", metadata: ["reason": "\(error)"])
            return false
        }
    }

    private func rotateSigners(validityDays: Int) async {
        let result = await responder.authority.rotateDueOCSPSigners(
            validityDays: validityDays,
            responseValidity: responder.validitySeconds,
            now: Int64(Date().timeIntervalSince1970)
        )
        for ca in result.rotated { logger.notice("delegated OCSP signer rotated", metadata: ["ca": "\(ca)"]) }
        for key in result.destroyed {
            logger.notice("expired delegated OCSP signer key destroyed", metadata: ["key": "\(key)"])
        }
        for (ca, reason) in result.failures.sorted(by: { $0.key < $1.key }) {
            logger.error("delegated OCSP signer rotation failed", metadata: ["ca": "\(ca)", "reason": "\(reason)"])
        }
    }
}
