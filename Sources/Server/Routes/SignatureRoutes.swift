import APIModels
import Access
import Foundation
import Hummingbird
import PKCS11
import Signing

/// `POST /v1/keys/{name}/sign` and `/verify`, single or batched.
///
/// A body with `items` is a batch: top-level `scheme`, `hash`, `saltLength` and `signatureFormat`
/// apply to every item that does not set its own, results come back in order, and each item carries
/// its own signature or error. A body without `items` is one item, and its error is the response's.
struct SignatureRoutes {
    let signing: SigningService
    let maxBodyBytes: Int
    let rateLimiter: RateLimiter?

    struct Body: Decodable {
        var items: [Lenient<SignatureItem>]?
        var single: SignatureItem

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            items = try container.decodeIfPresent([Lenient<SignatureItem>].self, forKey: .items)
            single = try SignatureItem(from: decoder)
        }

        enum CodingKeys: String, CodingKey { case items }
    }

    struct BatchResponse<Result: Encodable>: Encodable {
        var key: String
        var results: [Result]
        var succeeded: Int
        var failed: Int
    }

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/keys/:name/sign", use: sign)
        group.post("v1/keys/:name/verify", use: verify)
    }

    /// One digest or message, or a batch of `items`, signed in the HSM.
    @Sendable func sign(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        try context.requireSigner(for: name)
        let body = try await JSONBody.decode(Body.self, from: request, limit: maxBodyBytes)
        let entries = try entries(body)
        try rateLimiter?.admit(entries.count, context)
        let outcomes = try await process(entries, defaults: body.single.parameters) { item, parameters in
            SigningService.SignItem(
                input: try item.input(maxDataBytes: signing.limits.maxDataBytes),
                parameters: parameters
            )
        } perform: { work in
            try await signing.sign(name, work)
        }
        let views = zip(entries, outcomes).map { entry, result -> SignResult in
            let reference = try? entry.get().reference
            switch result {
            case .success(let signature):
                return SignResult(
                    reference: reference,
                    signature: Data(signature.bytes).base64EncodedString(),
                    scheme: signature.scheme.name,
                    hash: signature.scheme.hash?.rawValue,
                    signatureFormat: signature.encoding?.rawValue
                )
            case .failure(let error):
                return SignResult(reference: reference, error: ItemError(error))
            }
        }
        return try respond(body.items == nil, name: name, views, outcomes)
    }

    @Sendable func verify(_ request: Request, context: CustosRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        try context.require(.admin, .officer, .auditor, .signer)
        let body = try await JSONBody.decode(Body.self, from: request, limit: maxBodyBytes)
        let entries = try entries(body)
        let outcomes = try await process(entries, defaults: body.single.parameters) { item, parameters in
            guard let signature = item.signature else {
                throw APIError.badRequest("invalid_input", "signature is required")
            }
            return SigningService.VerifyItem(
                input: try item.input(maxDataBytes: signing.limits.maxDataBytes),
                signature: try JSONBody.base64(signature, field: "signature"),
                parameters: parameters
            )
        } perform: { work in
            try await signing.verify(name, work)
        }
        let views = zip(entries, outcomes).map { entry, result -> VerifyResult in
            let reference = try? entry.get().reference
            switch result {
            case .success(let valid): return VerifyResult(reference: reference, valid: valid)
            case .failure(let error):
                return VerifyResult(reference: reference, error: ItemError(error))
            }
        }
        return try respond(body.items == nil, name: name, views, outcomes)
    }

    /// The items of a body: a batch's, or the body itself as one item.
    private func entries(_ body: Body) throws(APIError) -> [Result<SignatureItem, APIError>] {
        guard let items = body.items else { return [.success(body.single)] }
        guard !items.isEmpty else { throw APIError.badRequest("empty_batch", "items is empty") }
        guard items.count <= signing.limits.maxBatchItems else {
            throw APIError.badRequest(
                "batch_too_large",
                "a batch has at most \(signing.limits.maxBatchItems) items, got \(items.count)"
            )
        }
        return items.map(\.value)
    }

    /// Converts each item with the batch's defaults under its own choices (a bad item becomes its
    /// error), hands the good ones to `perform` in one call, and returns every outcome in its position.
    private func process<Work, Value>(
        _ entries: [Result<SignatureItem, APIError>],
        defaults: SignatureParameters,
        convert: (SignatureItem, SignatureParameters) throws -> Work,
        perform: ([Work]) async throws -> [Result<Value, SigningError>]
    ) async throws -> [Result<Value, APIError>] {
        var outcomes = [Result<Value, APIError>?](repeating: nil, count: entries.count)
        var positions: [Int] = []
        var work: [Work] = []
        work.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() {
            do {
                let item = try entry.get()
                work.append(try convert(item, item.parameters.merged(over: defaults)))
                positions.append(index)
            } catch {
                outcomes[index] = .failure(ObservabilityMiddleware.apiError(for: error))
            }
        }
        if !work.isEmpty {
            for (index, outcome) in zip(positions, try await perform(work)) {
                outcomes[index] = outcome.mapError(APIError.from)
            }
        }
        return outcomes.map { $0! }
    }

    /// A single item answers with its own result or error; a batch always answers 200 with every result.
    private func respond<View: Encodable, Value>(
        _ single: Bool,
        name: String,
        _ views: [View],
        _ outcomes: [Result<Value, APIError>]
    ) throws -> Response {
        if single {
            if case .failure(let error) = outcomes[0] { throw error }
            return try JSONResponse(body: views[0]).makeResponse()
        }
        let good = outcomes.filter { if case .success = $0 { true } else { false } }.count
        return try JSONResponse(
            body: BatchResponse(key: name, results: views, succeeded: good, failed: views.count - good)
        ).makeResponse()
    }
}

extension SignatureItem {
    var parameters: SignatureParameters {
        SignatureParameters(scheme: scheme, hash: hash, saltLength: saltLength, encoding: signatureFormat)
    }

    func input(maxDataBytes: Int) throws(APIError) -> SigningInput {
        switch (digest, data) {
        case (let digest?, nil): return .digest(try JSONBody.base64(digest, field: "digest"))
        case (nil, let data?):
            // Checked before decoding too, so that an oversized item costs no decoding.
            guard data.utf8.count <= (maxDataBytes + 2) / 3 * 4 else {
                throw APIError.badRequest(
                    "invalid_input",
                    "data exceeds \(maxDataBytes) bytes; send a digest for larger inputs"
                )
            }
            return .message(try JSONBody.base64(data, field: "data"))
        case (nil, nil): throw APIError.badRequest("invalid_input", "give either digest or data")
        case (_?, _?): throw APIError.badRequest("invalid_input", "give either digest or data, not both")
        }
    }
}
