import Foundation
import FuzzDriver
import Signing

/// RFC 3161 replies from a time-stamping authority (CMS SignedData inside a TimeStampResp).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? TimestampClient.acceptedToken(bytes, imprint: Array(bytes.prefix(8)), nonce: 42)
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
