public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of running an external program.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs an external program (openssl, pkcs11-tool, the custos binary) to completion.
@discardableResult
public func runCommand(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = [:],
    input: Data? = nil,
    currentDirectory: String? = nil
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : try which(executable))
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe()
    let err = Pipe()
    let inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    if let input { inPipe.fileHandleForWriting.write(input) }
    try inPipe.fileHandleForWriting.close()
    // Read both pipes before waiting so a chatty program cannot fill a pipe and stall.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
        outData = readToEnd(out.fileHandleForReading)
        group.leave()
    }
    errData = readToEnd(err.fileHandleForReading)
    group.wait()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self)
    )
}

/// Everything until end of file. Not `readDataToEndOfFile()`: on Linux Foundation stops the process
/// when a signal interrupts its read (`EINTR`), which a test process that starts many children meets.
func readToEnd(_ handle: FileHandle) -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
        if count > 0 {
            data.append(contentsOf: buffer[0..<count])
        } else if count == 0 || errno != EINTR {
            return data
        }
    }
}

/// Runs an external program like `runCommand`, but waits on a thread of its own instead of the
/// calling task's. For clients of a server running in this process (openssl ocsp, Python): a blocking
/// wait would hold one of the few cooperative threads (two on two cores) that the server's handlers
/// need to answer, and two such waits at once deadlock the process.
public func runClient(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = [:],
    input: Data? = nil,
    currentDirectory: String? = nil
) async throws -> CommandResult {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(
                with: Result {
                    try runCommand(
                        executable,
                        arguments,
                        environment: environment,
                        input: input,
                        currentDirectory: currentDirectory
                    )
                }
            )
        }
        thread.start()
    }
}

/// The full path of a program on `PATH`.
public func which(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
}

/// A new empty temporary directory.
public func makeTemporaryDirectory(_ prefix: String = "custos") throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}
