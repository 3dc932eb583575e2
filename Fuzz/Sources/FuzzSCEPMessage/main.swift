import CustosX509
import Foundation
import FuzzDriver
import SCEP

/// SCEP PKIOperation bodies as a client sends them, through every step the server takes before the HSM:
/// the SignedData and its SCEP attributes, the signature check, the pkcsPKIEnvelope, the IssuerAndSubject
/// of a poll; and the CMS codec on its own. Checked: a SignedData or EnvelopedData that parses encodes to
/// bytes that parse again into the same fields.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let request = try? SCEPRequest(derEncoded: bytes) {
        _ = try? request.verify()
        _ = try? request.envelope()
        _ = try? IssuerAndSubject(derEncoded: request.content)
    }
    if let signed = try? CMSSignedDataMessage(derEncoded: bytes), let encoded = try? signed.der() {
        guard let again = try? CMSSignedDataMessage(derEncoded: encoded) else {
            preconditionFailure("a SignedData encoded from a parsed one does not parse")
        }
        precondition(again.content == signed.content && Set(again.certificates) == Set(signed.certificates))
        precondition(again.signers.count == signed.signers.count && Set(again.crls) == Set(signed.crls))
    }
    if let envelope = try? CMSEnvelopedData(derEncoded: bytes), let encoded = try? envelope.der() {
        guard let again = try? CMSEnvelopedData(derEncoded: encoded) else {
            preconditionFailure("an EnvelopedData encoded from a parsed one does not parse")
        }
        precondition(again.encryptedContent == envelope.encryptedContent && again.iv == envelope.iv)
        precondition(Set(again.recipients) == Set(envelope.recipients))
    }
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
