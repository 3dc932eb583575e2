import ACME
import Foundation
import FuzzDriver

/// ACME request bodies: the flattened JWS, its protected header and the JWK in it. Checked: a key that
/// reads has a thumbprint of 43 base64url characters (SHA-256), and a body that reads gives the same
/// fields when read again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let jws = try? JWS(body: bytes) else { return 0 }
    if case .key(let jwk) = jws.signer {
        precondition(jwk.thumbprint.utf8.count == 43, "a thumbprint is SHA-256 in base64url")
        _ = jws.isSigned(by: jwk)
    }
    guard let again = try? JWS(body: bytes) else { preconditionFailure("a body read once does not read again") }
    precondition(again.signingInput == jws.signingInput && again.signer == jws.signer)
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
