import Codecs
import Foundation
import FuzzDriver

/// PEM text: every block read back is written and read again to the same label and bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let blocks = try? PEM.blocks(text) else { return 0 }
    for block in blocks {
        let again = try? PEM.blocks(PEM.encode(block.der, label: block.label))
        precondition(again == [block], "\(block) does not survive writing and reading")
    }
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
