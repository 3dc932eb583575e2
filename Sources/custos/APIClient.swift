import APIModels
import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Where the running service is and which credential to use. Commands that change CAs and
/// certificates go through the API, so that the server's checks, caches and audit apply and they
/// work while it serves.
struct APIOptions: ParsableArguments {
    @Option(help: "The service's base URL (default: $CUSTOS_URL, http://127.0.0.1:8080).")
    var url: String?

    @Option(help: "File holding the bearer credential (default: $CUSTOS_TOKEN_FILE, .custos/admin.token).")
    var tokenFile: String?

    func client() throws -> APIClient {
        let environment = ProcessInfo.processInfo.environment
        let base = url ?? environment["CUSTOS_URL"] ?? "http://127.0.0.1:8080"
        guard let baseURL = URL(string: base), baseURL.scheme == "http" || baseURL.scheme == "https" else {
            throw ValidationError("--url must be an http or https URL, not \(base)")
        }
        let path = tokenFile ?? environment["CUSTOS_TOKEN_FILE"] ?? ".custos/admin.token"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the credential file \(path) (--token-file)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw CLIError("the credential file \(path) is empty") }
        return APIClient(base: baseURL, token: token)
    }
}

/// A small client of the Custos HTTP API: JSON in, JSON or bytes out, API errors as `CLIError`s that
/// carry the server's code and message.
struct APIClient {
    let base: URL
    let token: String

    /// Sends a request; returns the body of a 2xx answer.
    func send(
        _ method: String,
        _ path: String,
        body: Data? = nil,
        contentType: String = "application/octet-stream"
    ) async throws -> Data {
        guard let url = URL(string: base.absoluteString.trimmingSuffix("/") + path) else {
            throw CLIError("cannot make a URL of \(path)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 120
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let body {
            request.httpBody = body
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let data: Data
        let response: URLResponse
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw CLIError("cannot reach Custos at \(base.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            if let error = try? JSONDecoder().decode(ErrorBody.self, from: data).error {
                throw CLIError("\(error.code) (HTTP \(status)): \(error.message)")
            }
            throw CLIError("HTTP \(status): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        return data
    }

    /// Sends `body` (an API model) as JSON, or nothing, and decodes the answer as `Answer`.
    func call<Answer: Decodable>(
        _ method: String,
        _ path: String,
        body: (some Encodable)? = nil as Never?,
        as answer: Answer.Type
    ) async throws -> Answer {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let data = try await send(
            method,
            path,
            body: try body.map { try encoder.encode($0) },
            contentType: "application/json"
        )
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(Answer.self, from: data) } catch {
            throw CLIError("the answer to \(method) \(path) is not a \(Answer.self): \(error)")
        }
    }

    /// A path segment, percent-encoded.
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }
}

/// Prints an API model as JSON, indented, keys sorted, dates in ISO 8601.
func printJSON(_ model: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    print(String(decoding: try encoder.encode(model), as: UTF8.self))
}

/// Writes `data` to `path`, or to standard output without one.
func output(_ data: Data, to path: String?) throws {
    if let path {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch { throw CLIError("cannot write \(path): \(error)") }
    } else {
        FileHandle.standardOutput.write(data)
    }
}

/// The contents of a file the operator named, or a clear error.
func readFile(_ path: String, what: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(what) \(path)") }
    return data
}

/// A password from a file the operator named: its first line, without the line ending (LF or CRLF).
func readPasswordFile(_ path: String) throws -> [UInt8] {
    var bytes = Array(try readFile(path, what: "the password file"))
    while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
    return bytes
}

/// `key=value,key=value` pairs.
func metadataPairs(_ text: String?) throws -> [String: String] {
    var pairs: [String: String] = [:]
    for pair in (text ?? "").split(separator: ",") {
        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ValidationError("--metadata takes key=value pairs, not \"\(pair)\"") }
        pairs[parts[0]] = parts[1]
    }
    return pairs
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
