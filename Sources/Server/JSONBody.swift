import Codecs
import Foundation
import Hummingbird
import NIOCore

/// Reading request bodies: size-limited, decoded strictly, with errors that name the problem.
enum JSONBody {
    /// Collects at most `limit` bytes and decodes them as `T` (with `dates`, RFC 3339 dates). The
    /// body must be declared `application/json`: a browser sends `text/plain` and form types across
    /// origins without asking first, JSON only after a CORS preflight.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int, dates: Bool = false)
        async throws -> T
    {
        try requireJSON(request)
        let buffer = try await collect(request, limit: limit)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("invalid_json", "the request body is empty") }
        if let flat = T.self as? any FlatJSONDecodable.Type,
            let members = buffer.withUnsafeReadableBytes({ FlatJSON.object($0) }),
            let value = flat.init(flat: members) as? T
        {
            return value
        }
        do {
            let decoder = JSONDecoder()
            if dates { decoder.dateDecodingStrategy = .iso8601 }
            return try decoder.decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw APIError.badRequest("invalid_json", describe(error))
        }
    }

    /// Throws 415 unless the request declares a JSON body (`application/json`, with or without
    /// parameters, or a `+json` type).
    static func requireJSON(_ request: Request) throws(APIError) {
        let declared = request.headers[.contentType] ?? ""
        // What every client sends: no splitting or lower-casing on the signing path.
        if declared == "application/json" { return }
        let type =
            declared.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces)
            .lowercased() ?? ""
        guard type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json")) else {
            throw APIError(
                .unsupportedMediaType,
                "unsupported_media_type",
                declared.isEmpty
                    ? "the request body must be JSON, sent with Content-Type: application/json"
                    : "the request body must be JSON (Content-Type: application/json), not \(declared)"
            )
        }
    }

    /// The whole body, at most `limit` bytes: 413 when it is larger, 400 when it cannot be read (a
    /// malformed chunked encoding, a connection that ended mid-body).
    static func collect(_ request: Request, limit: Int) async throws(APIError) -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the request body exceeds \(limit) bytes")
        } catch {
            throw APIError.badRequest("invalid_body", "the request body cannot be read: \(error)")
        }
    }

    /// A readable account of a decoding error, naming the field.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "the body" : names.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "the body is not valid JSON" : "\(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "\(path(context)): \"\(key.stringValue)\" is required"
        case .typeMismatch(let type, let context):
            return "\(path(context)) must be \(describe(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context)) must be \(describe(type)), not null"
        @unknown default:
            return "the body does not match the expected shape"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is [String: Any].Type: "an object"
        case is [Any].Type: "a list"
        default: "of another type (\(type))"
        }
    }

    /// Standard base64, or a clear error naming the field.
    static func base64(_ text: String, field: String) throws(APIError) -> [UInt8] {
        guard let bytes = Base64.decode(text) else {
            throw APIError.badRequest("invalid_input", "\(field) is not valid base64")
        }
        return bytes
    }
}

/// An element of a list that decodes on its own: a malformed element becomes an error for that
/// element instead of failing the whole list.
struct Lenient<Value: Decodable>: Decodable {
    let value: Result<Value, APIError>

    init(from decoder: any Decoder) throws {
        do {
            value = .success(try Value(from: decoder))
        } catch let error as DecodingError {
            value = .failure(APIError.badRequest("invalid_input", JSONBody.describe(error)))
        }
    }
}

/// JSON responses with the API's conventions (camelCase, RFC 3339 times).
struct JSONResponse<Body: Encodable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: Body

    func response(from request: Request, context: some RequestContext) throws -> Response { try makeResponse() }

    func makeResponse() throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(body)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// A body type `JSONBody.decode` may read with `FlatJSON` first.
protocol FlatJSONDecodable: Decodable {
    /// The value the members describe, or nil to leave the body to `JSONDecoder` (a missing field, a
    /// value of another type).
    init?(flat members: [String: FlatJSON.Value])
}
