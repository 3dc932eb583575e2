public import CA
import Foundation
public import Logging
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
public struct OCSPRefreshService: Service {
    let responder: OCSPResponder
    let interval: Duration
    let liveWindow: Duration
    let maxDeferredPasses: Int
    let signerValidityDays: Int?
    let logger: Logger

    public init(
        responder: OCSPResponder,
        interval: Duration = .seconds(5),
        liveWindow: Duration = .milliseconds(250),
        maxDeferredPasses: Int = 12,
        signerValidityDays: Int? = nil,
        logger: Logger = Logger(label: "custos.ocsp")
    ) {
        self.responder = responder
        self.interval = interval
        self.liveWindow = liveWindow
        self.maxDeferredPasses = maxDeferredPasses
        self.signerValidityDays = signerValidityDays
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var deferredPasses = 0
            while !Task.isCancelled {
                if let signerValidityDays { await rotateSigners(validityDays: signerValidityDays) }
                let pass = await responder.refresh(
                    limit: 1_000,
                    deferringNew: deferredPasses < maxDeferredPasses ? liveWindow : nil
                )
                deferredPasses = pass.deferred ? deferredPasses + 1 : 0
                ServerMetrics.ocspPresigned(pass.signed)
                // A full pass means there is more to do: go on at once.
                if pass.signed < 1_000 { try? await Task.sleep(for: interval) }
            }
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
