import Codecs
import Foundation
import FuzzDriver

/// DNS answers as a resolver sends them to the ACME validator. Checked: a message that reads gives the
/// same answers when read again, and following CNAMEs ends (at most 8 steps).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let response = try? DNSMessage.response(bytes) else { return 0 }
    guard let again = try? DNSMessage.response(bytes) else {
        preconditionFailure("a message read once does not read again")
    }
    precondition(again.answers == response.answers && again.id == response.id)
    for name in Set(response.answers.map(\.name)) {
        _ = response.records(.txt, for: name)
        _ = response.records(.a, for: name)
    }
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
