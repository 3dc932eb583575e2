import CustosTestSupport
import Foundation
import Testing

/// The `custos` binary built next to the test bundle.
let custosBinary: String = {
    let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    return directory.appendingPathComponent("custos").path
}()

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

/// Runs `custos` with SoftHSM pointed at the test environment.
func custos(
    _ arguments: [String],
    environment: [String: String] = [:],
    directory: String? = nil,
    input: Data? = nil
) throws -> CommandResult {
    var merged = [
        "SOFTHSM2_CONF": SoftHSMEnvironment.shared.configPath, "CUSTOS_PROFILES_DIR": "\(repositoryRoot)/HSMProfiles",
    ]
    merged.merge(environment) { $1 }
    return try runCommand(custosBinary, arguments, environment: merged, input: input, currentDirectory: directory)
}

/// `custos(…)` on a thread of its own, so that a waiting test holds none of the cooperative pool's two
/// threads (servers in this process need them).
func custosClient(_ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
    var merged = [
        "SOFTHSM2_CONF": SoftHSMEnvironment.shared.configPath, "CUSTOS_PROFILES_DIR": "\(repositoryRoot)/HSMProfiles",
    ]
    merged.merge(environment) { $1 }
    return try await runClient(custosBinary, arguments, environment: merged)
}

/// A running `custos serve` (or another long-running `command`), read line by line.
final class ServeProcess: @unchecked Sendable {
    // @unchecked: `output` is only touched under `lock`, from the pipe's handler and the test.
    let process = Process()
    private let lock = NSLock()
    private var output = ""

    init(
        _ arguments: [String],
        directory: String,
        environment: [String: String] = [:],
        command: [String] = ["serve"]
    ) throws {
        process.executableURL = URL(fileURLWithPath: custosBinary)
        process.arguments = command + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var merged = ProcessInfo.processInfo.environment
        merged["CUSTOS_PROFILES_DIR"] = "\(repositoryRoot)/HSMProfiles"
        merged.merge(environment) { $1 }
        process.environment = merged
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            lock.lock()
            output += String(decoding: data, as: UTF8.self)
            lock.unlock()
        }
        try process.run()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return output
    }

    /// Waits until the output contains `marker` or the process exits.
    func waitFor(_ marker: String, timeout: Duration = .seconds(60)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if text.contains(marker) { return true }
            if !process.isRunning { return text.contains(marker) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func stop(_ signal: Int32 = SIGTERM) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + .seconds(30)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Runs `custos store exercise` with `arguments`, kills it with SIGKILL after `pause`, and returns the
/// writes it acknowledged (a line cut by the kill is not an acknowledgement).
func exerciseUntilKilled(_ arguments: [String], after pause: Duration) async throws -> Set<Int> {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: custosBinary)
    process.arguments = ["store", "exercise"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    try await Task.sleep(for: pause)
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    #expect(process.terminationReason == .uncaughtSignal)
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    var acknowledged = Set<Int>()
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
        if line.hasPrefix("ack "), let index = Int(line.dropFirst(4)) { acknowledged.insert(index) }
    }
    return acknowledged
}
