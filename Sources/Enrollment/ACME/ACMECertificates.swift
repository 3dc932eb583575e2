import ACME
import CA
import Codecs
import Crypto
import CustosX509
import Foundation
import MetadataStore
import SwiftASN1
import X509
import _CryptoExtras

/// Finalization, download and revocation of certificates (RFC 8555 sections 7.4, 7.4.2 and 7.6).
extension ACMEService {
    /// Metadata keys of certificates issued through ACME.
    public static let accountMetadataKey = "acme.account"
    public static let orderMetadataKey = "acme.order"

    func finalize(_ request: ACMESignedRequest, id: String, _ context: Context) async throws(ACMEProblem)
        -> ACMEResponse
    {
        let account = try request.signer
        let order = try await refreshed(try ownOrder(id, account: account), context)
        guard order.status == .ready else {
            throw ACMEProblem(
                .orderNotReady,
                order.status == .pending
                    ? "the order's authorizations are not all valid yet" : "the order is \(order.status.rawValue)"
            )
        }
        let payload = try Self.decodeObject(request.payload)
        guard let text = payload["csr"] as? String, let csr = Base64URL.decode(text) else {
            throw ACMEProblem(.malformed, "\"csr\" is a base64url DER certification request")
        }
        let verified: VerifiedCSR
        do { verified = try CertificateAuthority.verify(csr: csr) } catch {
            throw ACMEProblem(.badCSR, error.message)
        }
        let subject = try Self.checkNames(of: verified.request, against: order)
        let profile = context.profile
        let metadata = [
            EnrollmentService.profileMetadataKey: profile.id, EnrollmentService.protocolMetadataKey: "acme",
            Self.accountMetadataKey: account.id, Self.orderMetadataKey: order.id,
        ]
        let orderEvent = AuditEvent(
            actor: context.actor(account.id),
            action: "acme.order.valid",
            object: "acme-order/\(order.id)",
            outcome: "success: certificate issued",
            requestID: context.requestID
        )
        let issued: CertificateAuthority.IssuedCertificate
        do {
            issued = try await enrollment.authority.issue(
                ca: profile.ca,
                .init(
                    csr: csr,
                    category: profile.category,
                    validityDays: profile.validityDays,
                    metadata: metadata,
                    subject: subject,
                    verified: verified
                ),
                requester: Requester(actor: context.actor(account.id), requestID: context.requestID),
                action: "certificate.enroll",
                alsoWrite: { txn, record in
                    // Finalized once: a second finalize racing this one finds the order valid.
                    guard var current = try txn.acmeOrder(id: order.id), current.status == .ready else {
                        throw CAError(.conflict, "the order was finalized meanwhile")
                    }
                    current.status = .valid
                    current.serial = Hex.encode(record.serial)
                    try txn.save(current)
                    try txn.appendAudit(orderEvent)
                }
            )
        } catch {
            throw Self.problem(from: EnrollmentError.from(error), csr: true)
        }
        var done = order
        done.status = .valid
        done.serial = Hex.encode(issued.record.serial)
        return Self.json(200, orderJSON(done, context), headers: [("Location", context.urls.order(order.id))])
    }

    /// The names a CSR asks for must be the order's identifiers, no more and no fewer (section 7.4); a
    /// common name must be one of them. Returns the subject to certify: the CSR's common name, or the
    /// first DNS identifier that fits one.
    static func checkNames(of csr: CertificateSigningRequest, against order: ACMEOrderRecord) throws(ACMEProblem)
        -> DistinguishedName
    {
        let requested: [SubjectAlternativeName]
        do {
            requested = try CertificateAuthority.requestedAlternativeNames(csr).map { name throws(CAError) in
                try SubjectAlternativeName(name)
            }
        } catch { throw ACMEProblem(.badCSR, error.message) }
        var names = Set<String>()
        for name in requested {
            switch name.kind {
            case .dns: names.insert("dns:" + name.value.lowercased())
            case .ip:
                guard let bytes = ACMEIdentifier.addressBytes(name.value) else {
                    throw ACMEProblem(.badCSR, "\(name.value) is not an address")
                }
                names.insert("ip:" + ACMEIdentifier.addressText(bytes))
            default:
                throw ACMEProblem(.badCSR, "the CSR asks for a \(name.kind.rawValue) name, which ACME does not prove")
            }
        }
        let ordered = Set(order.identifiers)
        guard names == ordered else {
            let extra = names.subtracting(ordered).sorted()
            let missing = ordered.subtracting(names).sorted()
            throw ACMEProblem(
                .badCSR,
                "the CSR's names are not the order's identifiers"
                    + (extra.isEmpty ? "" : "; not ordered: " + extra.joined(separator: ", "))
                    + (missing.isEmpty ? "" : "; missing: " + missing.joined(separator: ", "))
            )
        }
        let commonNames = csr.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
        guard csr.subject.flatMap({ $0 }).count == commonNames.count else {
            throw ACMEProblem(
                .badCSR,
                "the CSR's subject has attributes besides a common name, which ACME does not prove"
            )
        }
        if let commonName = commonNames.first {
            let text = commonName.value.description.lowercased()
            guard commonNames.count == 1, names.contains("dns:" + text) || names.contains("ip:" + text) else {
                throw ACMEProblem(.badCSR, "the CSR's common name is not one of the order's identifiers")
            }
            return csr.subject
        }
        let first = order.identifiers.first { $0.hasPrefix("dns:") && $0.utf8.count <= 68 }.map {
            String($0.dropFirst(4))
        }
        guard let first else { return DistinguishedName() }
        return DistinguishedName([
            RelativeDistinguishedName(.init(type: .RDNAttributeType.commonName, utf8String: first))
        ])
    }

    /// The certificate with its chain number `alternate` (0: the default; see `chains`), and links to
    /// the other chains.
    func certificate(_ request: ACMESignedRequest, serial: String, alternate: Int, _ context: Context)
        async throws(ACMEProblem) -> ACMEResponse
    {
        let account = try request.signer
        let record = try await ownCertificate(serial, account: account, context)
        let chains = try await chains(for: record, context)
        guard chains.indices.contains(alternate) else {
            throw ACMEProblem(.malformed, "certificate \(serial.prefix(40)) has no chain \(alternate)", status: 404)
        }
        var pem = PEM.encode(record.der) + "\n"
        for certificate in chains[alternate] { pem += PEM.encode(certificate) + "\n" }
        let url = context.urls.certificate(serial)
        let links = chains.indices.filter { $0 != alternate }.map { index in
            ("Link", "<\(index == 0 ? url : "\(url)/\(index)")>;rel=\"alternate\"")
        }
        return ACMEResponse(
            status: 200,
            contentType: "application/pem-certificate-chain",
            headers: links,
            body: Array(pem.utf8)
        )
    }

    func ownCertificate(_ serial: String, account: ACMEAccountRecord, _ context: Context) async throws(ACMEProblem)
        -> CertificateRecord
    {
        guard let record = try? await enrollment.authority.certificate(ca: context.profile.ca, serial: serial),
            record.metadata[Self.accountMetadataKey] == account.id
        else { throw ACMEProblem(.malformed, "the account has no certificate \(serial.prefix(40))", status: 404) }
        return record
    }

    /// Section 7.6: signed by the account that ordered the certificate, or by the certificate's own key.
    func revoke(_ request: ACMESignedRequest, _ context: Context) async throws(ACMEProblem) -> ACMEResponse {
        let payload = try Self.decodeObject(request.payload)
        guard let text = payload["certificate"] as? String, let der = Base64URL.decode(text),
            let certificate = try? Certificate(derEncoded: der)
        else { throw ACMEProblem(.malformed, "\"certificate\" is a base64url DER certificate") }
        let serial = Hex.encode(certificate.serialNumber.bytes)
        guard let record = try? await enrollment.authority.certificate(ca: context.profile.ca, serial: serial),
            record.der == der
        else { throw ACMEProblem(.malformed, "the profile's CA did not issue this certificate", status: 404) }
        let actor: String
        switch request.jws.signer {
        case .account:
            let account = try request.signer
            guard record.metadata[Self.accountMetadataKey] == account.id else {
                throw ACMEProblem(.unauthorized, "the account did not order this certificate")
            }
            actor = context.actor(account.id)
        case .key(let key):
            guard Self.jwk(of: certificate.publicKey) == key else {
                throw ACMEProblem(.unauthorized, "the JWS is not signed by the certificate's key")
            }
            actor = "acme/\(context.profile.id)/certificate-key"
        }
        let code = payload["reason"] as? Int ?? 0
        guard [0, 1, 3, 4, 5].contains(code), let reason = CRLReason(rawValue: UInt8(code)) else {
            throw ACMEProblem(.badRevocationReason, "reason \(code) is not one of 0, 1, 3, 4, 5")
        }
        do {
            _ = try await enrollment.authority.revoke(
                ca: context.profile.ca,
                serial: serial,
                reason: reason,
                requester: Requester(actor: actor, requestID: context.requestID)
            )
        } catch {
            if error.code == .alreadyRevoked { throw ACMEProblem(.alreadyRevoked, error.message) }
            throw Self.problem(from: EnrollmentError.from(error))
        }
        return ACMEResponse(status: 200)
    }

    /// The JWK of a certificate's public key, for the kinds accounts use.
    static func jwk(of key: Certificate.PublicKey) -> JWK? {
        if let key = P256.Signing.PublicKey(key) {
            let raw = Array(key.rawRepresentation)
            return .p256(x: Array(raw.prefix(32)), y: Array(raw.suffix(32)))
        }
        if let key = P384.Signing.PublicKey(key) {
            let raw = Array(key.rawRepresentation)
            return .p384(x: Array(raw.prefix(48)), y: Array(raw.suffix(48)))
        }
        if let key = _RSA.Signing.PublicKey(key), let primitives = try? key.getKeyPrimitives() {
            return .rsa(
                n: Array(primitives.modulus.drop { $0 == 0 }),
                e: Array(primitives.publicExponent.drop { $0 == 0 })
            )
        }
        if let key = Curve25519.Signing.PublicKey(key) { return .ed25519(x: Array(key.rawRepresentation)) }
        return nil
    }

    /// A refusal of the CA in ACME's terms; with `csr`, policy refusals are the CSR's fault.
    static func problem(from error: EnrollmentError, csr: Bool) -> ACMEProblem {
        if csr, error.code == .policyViolation || error.code == .invalidInput {
            return ACMEProblem(.badCSR, error.message)
        }
        if error.code == .forbidden { return ACMEProblem(.orderNotReady, error.message) }
        return problem(from: error)
    }
}
