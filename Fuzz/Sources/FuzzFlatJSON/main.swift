import Codecs
import Foundation
import FuzzDriver

/// The flat JSON reader of issuance bodies, against Foundation's: whatever it reads, `JSONSerialization`
/// must read as the same object (its promise is to answer only when it reads a body exactly as the
/// full decoder would, and to step aside otherwise).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let buffer = UnsafeRawBufferPointer(start: data, count: size)
    guard let members = FlatJSON.object(buffer) else { return 0 }
    guard let object = try? JSONSerialization.jsonObject(with: Data(buffer)) as? [String: Any] else {
        fatalError("FlatJSON read an object that JSONSerialization refuses: \(Array(buffer))")
    }
    precondition(Set(object.keys) == Set(members.keys), "keys differ: \(members) vs \(object)")
    for (key, value) in members {
        switch value {
        case .string(let text): precondition(object[key] as? String == text, "\(key): \(text) vs \(object[key]!)")
        case .integer(let number):
            precondition((object[key] as? NSNumber)?.intValue == number, "\(key): \(number) vs \(object[key]!)")
        case .null: precondition(object[key] is NSNull, "\(key): null vs \(object[key]!)")
        case .strings(let pairs):
            precondition(object[key] as? [String: String] == pairs, "\(key): \(pairs) vs \(object[key]!)")
        }
    }
    return 0
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
