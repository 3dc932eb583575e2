import CA
import Foundation
import FuzzDriver

/// Certificates to import: PEM, DER, PKCS#7 bundles and PKCS#12 files (libcrypto reads those).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? CertificateImporter.readCertificates(bytes, pkcs12Password: Array("fuzz".utf8))
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
