import AsyncHTTPClient
import CA
import Foundation
import NIOCore

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

    /// The answer's body, if the upstream answered `200` with `contentType` in time.
    func post(_ body: [UInt8], to url: String, contentType: String, maxBytes: Int, deadline: Date) async throws(Failure)
        -> [UInt8]
    {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { throw Failure(description: "no time was left to send") }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(remaining * 1000)))
            let bytes = try await response.body.collect(upTo: maxBytes)
            guard response.status == .ok else {
                throw Failure(description: "it answered HTTP \(response.status.code)")
            }
            let type = response.headers.first(name: "Content-Type")?.split(separator: ";").first
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard type == contentType else {
                throw Failure(description: "it answered \(type ?? "no content type"), not \(contentType)")
            }
            return Array(buffer: bytes)
        } catch let failure as Failure {
            throw failure
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Failure(description: "it did not answer within \(Int(remaining.rounded(.up))) s")
        } catch let error as NIOTooManyBytesError {
            throw Failure(description: "its answer is larger than \(maxBytes) bytes (\(error))")
        } catch {
            throw Failure(description: "it could not be reached: \(error)")
        }
    }
}
