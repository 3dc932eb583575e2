import ACME
import CA
import Codecs
import CustosX509
import MetadataStore
import X509

/// The chains a certificate is downloaded with (RFC 8555 section 7.4.2): each starts with a
/// certificate of the profile's CA that holds the key which signed it, then the CAs above without the
/// root. A CA renewed with its key has several such certificates: the newest gives the default chain,
/// the others alternates (`Link: rel="alternate"`); after a re-key, certificates issued before it still
/// come with the CA certificates of the key that signed them.
extension ACMEService {
    func chains(for record: CertificateRecord, _ context: Context) async throws(ACMEProblem) -> [[[UInt8]]] {
        do {
            let authority = try await enrollment.authority.authority(context.profile.ca)
            let above = try await enrollment.authority.chain(context.profile.ca).dropFirst()
                .filter { $0.subject != $0.issuer }.map { try derBytes($0) }
            let leaf = try Certificate(derEncoded: record.der)
            let keyID = try leaf.extensions.authorityKeyIdentifier?.keyIdentifier.map(Array.init)
            var issuers: [[UInt8]] = []
            for der in [authority.record.certificate].compactMap({ $0 })
                + authority.record.previousCertificates.reversed()
            {
                let candidate = try Certificate(derEncoded: der)
                let candidateID = try candidate.extensions.subjectKeyIdentifier.map { Array($0.keyIdentifier) }
                let signed =
                    if let keyID, let candidateID { keyID == candidateID } else {
                        candidate.publicKey.isValidSignature(leaf.signature, for: leaf)
                    }
                if signed && !issuers.contains(der) { issuers.append(der) }
            }
            guard !issuers.isEmpty else {
                throw ACMEProblem(
                    .serverInternal,
                    "no certificate of CA \(context.profile.ca) holds the key that signed \(Hex.encode(record.serial))"
                )
            }
            return issuers.map { [$0] + above }
        } catch let problem as ACMEProblem {
            throw problem
        } catch {
            throw ACMEProblem(.serverInternal, "the CA chain cannot be read: \(error)")
        }
    }
}
