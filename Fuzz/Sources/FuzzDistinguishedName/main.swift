import CA
import Foundation
import FuzzDriver

/// Subjects as RFC 4514 text: a name that parses is written and parsed again to the same name.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let name = try? DistinguishedNameText.parse(text) else { return 0 }
    let written = DistinguishedNameText.format(name)
    guard let again = try? DistinguishedNameText.parse(written) else {
        fatalError("\(text.debugDescription) parsed, but its text \(written.debugDescription) does not")
    }
    precondition(again == name, "\(text.debugDescription) → \(written.debugDescription) is another name")
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
