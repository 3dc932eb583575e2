import AsyncHTTPClient
import CA
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// POSTs one message to an upstream CA and reads its answer, bounded by a deadline and a size. A failure
/// to get a readable answer is `UpstreamHTTP.Failure`, which callers may retry; an answer of the wrong
/// kind is too, since a proxy or a restarting server answers that way.
struct UpstreamHTTP: Sendable {
    let client: HTTPClient

    /// The client connectors share for the process's life: connections are not retried by the client
    /// (the connector's own attempts are counted and bounded), redirects are not followed (a CA endpoint
    /// that moves is configured anew), and a connection must be made within 5 seconds.
    static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5))
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Why no answer came: the upstream could not be reached, did not answer in time, or answered
    /// something other than the protocol's message.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// An answer as it came: status, headers, body.
    struct Answer {
        let status: HTTPResponseStatus
        let headers: HTTPHeaders
        let body: [UInt8]

        /// The media type without parameters, lowercased.
        var contentType: String? {
            headers.first(name: "Content-Type")?.split(separator: ";").first
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        }
    }

    /// The answer's body, if the upstream answered `200` with `contentType` in time.
    func post(_ body: [UInt8], to url: String, contentType: String, maxBytes: Int, deadline: Date) async throws(Failure)
        -> [UInt8]
    {
        let answer = try await send(
            body,
            to: url,
            headers: ["Content-Type": contentType, "Accept": contentType],
            maxBytes: maxBytes,
            deadline: deadline
        )
        guard answer.status == .ok else { throw Failure(description: "it answered HTTP \(answer.status.code)") }
        guard answer.contentType == contentType else {
            throw Failure(description: "it answered \(answer.contentType ?? "no content type"), not \(contentType)")
        }
        return answer.body
    }

    /// POSTs `body` (or with `method` GET, sends nothing) over TLS with `tls`, if given, and returns
    /// whatever the upstream answered in time.
    func send(
        _ body: [UInt8],
        to url: String,
        method: HTTPMethod = .POST,
        headers: [String: String],
        tls: TLSConfiguration? = nil,
        maxBytes: Int,
        deadline: Date
    ) async throws(Failure) -> Answer {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw Failure(description: "no time was left to send") }
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.tlsConfiguration = tls
        if method == .POST { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(remaining * 1000)))
            let bytes = try await response.body.collect(upTo: maxBytes)
            return Answer(status: response.status, headers: response.headers, body: Array(buffer: bytes))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Failure(description: "it did not answer within \(Int(remaining.rounded(.up))) s")
        } catch let error as NIOTooManyBytesError {
            throw Failure(description: "its answer is larger than \(maxBytes) bytes (\(error))")
        } catch {
            throw Failure(description: "it could not be reached: \(error)")
        }
    }
}

/// Runs `exchange` until it gives an answer, again (as a new exchange) after each `UpstreamHTTP.Failure`
/// while the link's attempts and time last, with a pause that grows; a `CAError` ends it at once.
func attempting<T>(_ target: UpstreamTarget, _ exchange: () async throws -> T) async throws(CAError) -> T {
    var failures: [String] = []
    for attempt in 1...max(1, target.link.attempts) {
        do {
            return try await exchange()
        } catch let failure as UpstreamHTTP.Failure {
            failures.append(failure.description)
            let pause = 0.25 * Double(1 << min(attempt, 6))
            guard attempt < target.link.attempts, Date().addingTimeInterval(pause) < target.deadline else { break }
            try? await Task.sleep(for: .seconds(pause))
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(
                .internalError,
                "the \(target.link.protocolName.uppercased()) exchange with upstream CA \(target.ca) failed: \(error)"
            )
        }
    }
    throw CAError(
        .upstreamUnavailable,
        "upstream CA \(target.ca) at \(target.link.url.prefix(200)) gave no usable answer after "
            + "\(failures.count) attempt(s): \(failures.last ?? "no time was left")"
    )
}

extension UpstreamEnrollment {
    /// The client's own PKCS#10 request, for protocols that carry nothing else (EST, ACME).
    func clientCSR(protocolName: String) throws(CAError) -> [UInt8] {
        guard let csr else {
            throw CAError(
                .caNotUsable,
                "upstream CA \(target.ca) is reached over \(protocolName), which carries only the client's own PKCS#10 "
                    + "request for its own subject; this request (CRMF, a subject set by a profile template, or a "
                    + "renewal without a CSR) cannot go there"
            )
        }
        return csr
    }
}
