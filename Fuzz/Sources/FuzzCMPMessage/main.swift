import CMP
import Foundation
import FuzzDriver

/// CMP messages as a client sends them, through every step the server takes before the store and the
/// HSM: the message, its protection (a MAC with a fixed secret, a signature with the first extraCert),
/// the certificate requests' templates, proofs of possession and oldCertID controls. Checked: a message
/// that parses, written again from its header and body, parses into the same header and body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? PKIMessage(derEncoded: bytes) else { return 0 }
    if let protection = try? message.messageProtection() {
        if protection.isMAC {
            try? message.verifyMAC(secret: Array("fuzz-secret".utf8))
        } else if let signer = try? message.extraCertificates().first {
            try? message.verifySignature(certificate: signer)
        }
    }
    switch message.body {
    case .ir(let requests), .cr(let requests), .kur(let requests):
        for request in requests {
            try? request.verifyProofOfPossession()
            _ = try? request.oldCertificateID()
            _ = try? request.template.publicKey()
            _ = try? request.template.alternativeNames
            _ = try? CertReqMessage(certRequestDER: request.certRequestDER)
        }
    default: break
    }
    if let written = try? PKIMessage(header: message.header, body: message.body, protection: message.protection) {
        guard let again = try? PKIMessage(derEncoded: written.der) else {
            preconditionFailure("a message written from a parsed one does not parse")
        }
        precondition(again.header == message.header, "the header changed when written again")
        precondition(again.body == message.body, "the body changed when written again")
    }
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
