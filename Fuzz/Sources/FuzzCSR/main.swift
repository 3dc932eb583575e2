import CA
import Foundation
import FuzzDriver

/// PKCS#10 requests: parsed, their signature checked, weak RSA keys told apart from broken requests.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    _ = try? CertificateAuthority.parseCSR(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
