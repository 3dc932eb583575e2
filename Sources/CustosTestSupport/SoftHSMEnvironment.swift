import Foundation
public import PKCS11
import Synchronization

/// A SoftHSM2 installation private to this test process: its own `SOFTHSM2_CONF` and token
/// directory in a temporary folder, created on first use. Tokens are created in-process with
/// `C_InitToken`, so each test gets a fresh token found by its label.
public final class SoftHSMEnvironment: Sendable {
    /// The environment of this process.
    public static let shared: SoftHSMEnvironment = {
        do {
            return try SoftHSMEnvironment()
        } catch {
            preconditionFailure("cannot set up SoftHSM for tests: \(error)")  // allowed: test harness setup
        }
    }()

    /// Folder holding the config, the tokens and module copies.
    public let directory: String
    /// The `SOFTHSM2_CONF` file.
    public let configPath: String
    /// The installed SoftHSM2 module.
    public let modulePath: String
    /// The module shared by tests that do not disturb the module state.
    public let module: Module
    private let tokenLock = Mutex<Int>(0)

    /// Where Debian and others install SoftHSM2.
    public static let moduleCandidates = [
        "/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so", "/usr/local/lib/softhsm/libsofthsm2.so",
    ]

    private init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent(
            "custos-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        )
        directory = base.path
        let tokens = base.appendingPathComponent("tokens").path
        try FileManager.default.createDirectory(atPath: tokens, withIntermediateDirectories: true)
        configPath = base.appendingPathComponent("softhsm2.conf").path
        try "directories.tokendir = \(tokens)\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        setenv("SOFTHSM2_CONF", configPath, 1)
        let override = ProcessInfo.processInfo.environment["CUSTOS_SOFTHSM_MODULE"]
        guard
            let path = ([override].compactMap { $0 } + Self.moduleCandidates).first(where: {
                FileManager.default.fileExists(atPath: $0)
            })
        else {
            throw PKCS11Error(
                code: .moduleNotLoadable,
                reason: "SoftHSM2 is not installed (run scripts/install-deps.sh)"
            )
        }
        modulePath = path
        module = try Module.load(path: path)
    }

    /// Creates and initialises a new token with random SO and user PINs, through `module` (by default
    /// the shared one; pass a private copy's module to create the token in that copy's directory).
    public func makeToken(prefix: String = "t", on module: Module? = nil) throws -> TestToken {
        let label = tokenLock.withLock { counter -> String in
            counter += 1
            return "\(prefix)-\(counter)-\(UInt16.random(in: 0...UInt16.max))"
        }
        let token = TestToken(label: label, soPIN: Self.randomPIN(), userPIN: Self.randomPIN())
        // One token initialisation at a time: each one changes the slot list.
        _ = try tokenLock.withLock { _ in
            try (module ?? self.module).initializeFreeToken(label: label, soPIN: token.soPIN, userPIN: token.userPIN)
        }
        return token
    }

    /// A copy of the SoftHSM2 library with its own configuration and token directory. dlopen treats the
    /// copy as a separate library, so a test can finalize or fault it without disturbing others; and
    /// because SoftHSM2 scans its whole token directory in C_Initialize (and aborts on a token another
    /// instance is half-way through writing), each copy reads a configuration variable of its own: the
    /// name SOFTHSM2_CONF is rewritten in the copy to a unique name of the same length.
    public func isolatedModuleCopy() throws -> String {
        let resolved = URL(fileURLWithPath: modulePath).resolvingSymlinksInPath().path
        var library = try Data(contentsOf: URL(fileURLWithPath: resolved))
        let original = Data("SOFTHSM2_CONF".utf8)
        let suffix = String((0..<4).map { _ in "ABCDEFGHJKLMNPQRSTUVWXYZ".randomElement()! })
        let variable = "SOFTHSM2_" + suffix
        var replaced = 0
        var searchFrom = library.startIndex
        while let range = library.range(of: original, in: searchFrom..<library.endIndex) {
            library.replaceSubrange(range, with: Data(variable.utf8))
            searchFrom = range.upperBound
            replaced += 1
        }
        guard replaced > 0 else {
            throw PKCS11Error(code: .moduleNotLoadable, reason: "\(resolved) does not mention SOFTHSM2_CONF")
        }
        let base = "\(directory)/private-\(suffix)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: base + "/tokens", withIntermediateDirectories: true)
        try
            "directories.tokendir = \(base)/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
            .write(toFile: base + "/softhsm2.conf", atomically: true, encoding: .utf8)
        setenv(variable, base + "/softhsm2.conf", 1)
        let copy = base + "/libsofthsm2.so"
        try library.write(to: URL(fileURLWithPath: copy))
        return copy
    }

    /// A private copy of the fault-injecting module wired to a private copy of SoftHSM2.
    public func faultInjector() throws -> FaultInjector {
        guard let source = FaultInjector.libraryPath() else {
            throw PKCS11Error(
                code: .moduleNotLoadable,
                reason:
                    "libCustosFaultPKCS11.so not found next to the test binary; build with `swift build --build-tests`"
            )
        }
        return try FaultInjector(path: try copy(source, named: "fault"), target: try isolatedModuleCopy())
    }

    private func copy(_ path: String, named name: String) throws -> String {
        let target = "\(directory)/\(name)-\(UInt64.random(in: 0...UInt64.max)).so"
        // Copy the file itself: Debian's /usr/lib/softhsm/libsofthsm2.so is a relative symlink.
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        try FileManager.default.copyItem(atPath: resolved, toPath: target)
        return target
    }

    private static func randomPIN() -> String {
        String((0..<12).map { _ in "abcdefghijkmnpqrstuvwxyz23456789".randomElement()! })
    }
}

/// A freshly initialised token.
public struct TestToken: Sendable {
    public let label: String
    public let soPIN: String
    public let userPIN: String
}
