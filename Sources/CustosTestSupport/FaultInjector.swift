internal import CPKCS11
import Foundation
public import PKCS11

#if canImport(Glibc)
    import Glibc
#endif

/// Controls a private copy of the fault-injecting PKCS#11 module (`Sources/CFaultPKCS11`), which forwards
/// every call to a private copy of SoftHSM2 and fails or slows the calls it is told to.
public final class FaultInjector: Sendable {
    /// The module to load (with `Module.load` or a pool configuration).
    public let modulePath: String
    /// The real module the fault module forwards to.
    public let targetPath: String
    // The dlopen handle, kept as an integer so that the class stays Sendable; closed in deinit.
    private let handle: UInt

    private typealias SetTarget = @convention(c) (UnsafePointer<CChar>) -> Void
    private typealias Inject = @convention(c) (UnsafePointer<CChar>, UInt, UInt) -> Void
    private typealias Remove = @convention(c) (UInt) -> Void
    private typealias Latency = @convention(c) (UnsafePointer<CChar>, UInt) -> Void
    private typealias Calls = @convention(c) (UnsafePointer<CChar>) -> UInt
    private typealias Reset = @convention(c) () -> Void

    /// The built fault module: `$CUSTOS_FAULT_MODULE`, or next to the running test binary.
    public static func libraryPath() -> String? {
        if let path = ProcessInfo.processInfo.environment["CUSTOS_FAULT_MODULE"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for directory in [executable, executable.deletingLastPathComponent()] {
            let candidate = directory.appendingPathComponent("libCustosFaultPKCS11.so").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }

    init(path: String, target: String) throws {
        guard let opened = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw PKCS11Error(code: .moduleNotLoadable, reason: String(cString: dlerror()))
        }
        modulePath = path
        targetPath = target
        handle = UInt(bitPattern: opened)
        let set: SetTarget = symbol("custos_fault_set_target")
        set(target)
    }

    deinit { if let pointer = UnsafeMutableRawPointer(bitPattern: handle) { dlclose(pointer) } }

    private func symbol<T>(_ name: String) -> T {
        guard let pointer = dlsym(UnsafeMutableRawPointer(bitPattern: handle), name) else {
            preconditionFailure("fault module lacks \(name)")  // allowed: test harness, built together
        }
        return unsafeBitCast(pointer, to: T.self)
    }

    /// The next `count` calls of `function` (`"C_Sign"`, or `"*"` for any) fail with `rv`.
    public func inject(_ function: String, _ rv: ReturnValue, count: Int = 1) {
        let inject: Inject = symbol("custos_fault_inject")
        inject(function, rv.rawValue, UInt(count))
    }

    /// Every call fails with `rv` until the module is initialised again, as when a device is pulled.
    public func removeDevice(_ rv: ReturnValue = .deviceRemoved) {
        let remove: Remove = symbol("custos_fault_remove_device")
        remove(rv.rawValue)
    }

    /// Every call of `function` sleeps first.
    public func latency(_ function: String, _ duration: Duration) {
        let latency: Latency = symbol("custos_fault_latency")
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        latency(function, UInt(micros))
    }

    /// How many times `function` was called.
    public func calls(_ function: String) -> Int {
        let calls: Calls = symbol("custos_fault_calls")
        return Int(calls(function))
    }

    /// Clears faults, latencies and counters.
    public func reset() {
        let reset: Reset = symbol("custos_fault_reset")
        reset()
    }
}

/// Calls `C_Finalize` on a module directly, behind the back of whoever uses it.
public func finalizeBehindTheBack(modulePath: String) throws {
    var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
    var message = [CChar](repeating: 0, count: 512)
    guard let handle = cpkcs11_open(modulePath, &list, &message, UInt(message.count)), let list else {
        throw PKCS11Error(code: .moduleNotLoadable, reason: "cannot open \(modulePath)")
    }
    defer { cpkcs11_close(handle) }
    let rv = list.pointee.C_Finalize!(nil)
    guard rv == 0 else { throw PKCS11Error.call("C_Finalize", failedWith: ReturnValue(rawValue: rv)) }
}
