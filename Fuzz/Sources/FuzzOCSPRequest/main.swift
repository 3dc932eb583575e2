import Codecs
import Foundation
import FuzzDriver
import OCSP

/// OCSP requests as POST bodies (DER) and as GET paths (base64 text): both reach the parser before
/// any credential is asked for.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = OCSPResponder.isRequest(bytes)
    // The same bytes as the rest of a GET path, as the router and the fast path read it.
    let path = "/ocsp/" + String(decoding: bytes, as: UTF8.self)
    if let text = OCSPGetPath.base64Text(path) {
        if let der = Base64.decode(text) { _ = OCSPResponder.isRequest(der) }
        _ = OCSPGetPath.repaired(text)
    }
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
