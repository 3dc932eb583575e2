import CA
import Enrollment
import Foundation
import FuzzDriver
import NIOCore
import X509

@testable import Server

/// EST request bodies and credentials as a client sends them: the body read as base64 (or DER) and
/// parsed as a PKCS#10 request, the bytes read as an `Authorization: Basic` value, and a request's
/// subject put through a profile's subject template. Checked: a template filled with the request's
/// common name (any bytes a client chose) gives back that same name.
let template: SubjectTemplate = {
    do { return try SubjectTemplate("CN={CN},O=Fuzz") } catch { fatalError("the template: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let text = String(validating: bytes, as: UTF8.self) {
        if let (user, password) = ESTMessages.basicCredentials(header: text) {
            precondition(!user.contains(":"), "the user name ends at the first colon")
            _ = password
        }
    }
    guard let der = try? ESTMessages.csr(ByteBuffer(bytes: bytes)),
        let csr = try? CertificateAuthority.parseCSR(der)
    else { return 0 }
    let requested = DistinguishedNameText.values(.RDNAttributeType.commonName, in: csr.subject).last
    if let subject = try? template.subject(for: csr.subject), let requested {
        let certified = DistinguishedNameText.values(.RDNAttributeType.commonName, in: subject)
        precondition(certified == [requested], "template gave \(certified) for \(requested)")
    }
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
