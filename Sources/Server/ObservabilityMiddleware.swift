import Access
import CA
import Enrollment
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MetadataStore
import Metrics
import Notifications
import Signing
import Synchronization
import Vault

/// The outermost middleware: gives every response the request id, turns every error into the API's
/// JSON error body, logs failures, and counts requests and their latency by route and status.
struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = CustosRequestContext
    private let metrics = RequestMetrics()

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error)
            if apiError.status.code >= 500 {
                context.logger.error(
                    "request failed",
                    metadata: ["status": "\(apiError.status.code)", "code": "\(apiError.code)", "error": "\(error)"]
                )
            } else {
                context.logger.info(
                    "request refused",
                    metadata: ["status": "\(apiError.status.code)", "code": "\(apiError.code)"]
                )
            }
            response = try apiError.response(from: request, context: context)
        }
        response.headers[.requestID] = context.id
        let elapsed = ContinuousClock.now - start
        context.logger.debug(
            "request",
            metadata: [
                "method": "\(request.method.rawValue)", "route": "\(context.endpointPath ?? "unmatched")",
                "status": "\(response.status.code)", "actor": "\(context.actor)",
                "ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
            ]
        )
        metrics.record(
            route: context.endpointPath ?? "unmatched",
            method: request.method.rawValue,
            status: response.status.code,
            duration: elapsed
        )
        return response
    }

    static func apiError(for error: any Error) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as SigningError: return APIError.from(error)
        case let error as CAError: return APIError.from(error)
        case let error as VaultError: return APIError.from(error)
        case let error as EnrollmentError: return APIError.from(error)
        case let error as AccessError: return APIError(error)
        case let error as NotificationError: return APIError.from(error)
        case let error as StoreError where error.isUnavailable:
            return APIError(
                .serviceUnavailable,
                "store_unavailable",
                "the store is unavailable: \(error.reason)",
                headers: [.retryAfter: "5"]
            )
        case let error as HTTPError:
            let code: String
            switch error.status {
            case .notFound: code = "not_found"
            case .methodNotAllowed: code = "method_not_allowed"
            case .contentTooLarge: code = "body_too_large"
            default: code = error.status.code < 500 ? "bad_request" : "internal_error"
            }
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase, headers: error.headers)
        default:
            return APIError(.internalServerError, "internal_error", "the request failed on the server; see the logs")
        }
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}

/// Request counters and latency histograms, one handle per route, method and status, made once: the
/// metrics factory's lookup (label sanitising, its own lock) is not free on every request.
private final class RequestMetrics: Sendable {
    private struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }
    private let counters = Mutex<[Key: Counter]>([:])
    private let timers = Mutex<[String: Timer]>([:])

    func record(route: String, method: String, status: Int, duration: Duration) {
        let key = Key(route: route, method: method, status: status)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "custos_http_requests_total",
                dimensions: [("route", route), ("method", method), ("status", String(status))]
            )
            counters[key] = counter
            return counter
        }
        let timer = timers.withLock { timers in
            if let timer = timers[route] { return timer }
            let timer = Timer(label: "custos_http_request_duration_seconds", dimensions: [("route", route)])
            timers[route] = timer
            return timer
        }
        counter.increment()
        timer.recordNanoseconds(duration.nanoseconds)
    }
}
