import CA
import Codecs
import Hummingbird

/// The answer to `POST /v1/cas/{ca}/certificates/batch`, each request's result in order, written with
/// `JSONText` (a batch of 256 is a few hundred kilobytes of JSON), keys sorted as `JSONResponse` sorts
/// them.
struct BatchIssuanceView {
    /// One request's result: the certificate as `GET /v1/cas/{ca}/certificates/{serial}` shows it, or
    /// the error the single request would have got.
    enum Item {
        case issued(CertificateAnswer)
        case failed(code: String, message: String)
    }

    var ca: String
    /// The chain above every certificate of the batch, issuing CA first, once (DER).
    var chain: [[UInt8]]
    var results: [Item]

    var json: [UInt8] {
        let succeeded = results.filter { if case .issued = $0 { true } else { false } }.count
        var json = JSONText(capacity: 2048 + results.count * 1536)
        json.beginObject()
        json.key("ca")
        json.string(ca)
        json.key("chain")
        json.beginArray()
        for certificate in chain { json.pem(certificate) }
        json.endArray()
        json.key("failed")
        json.integer(results.count - succeeded)
        json.key("results")
        json.beginArray()
        for result in results {
            switch result {
            case .issued(let view): view.write(into: &json)
            case .failed(let code, let message):
                json.beginObject()
                json.key("error")
                json.beginObject()
                json.key("code")
                json.string(code)
                json.key("message")
                json.string(message)
                json.endObject()
                json.endObject()
            }
        }
        json.endArray()
        json.key("succeeded")
        json.integer(succeeded)
        json.endObject()
        return json.bytes
    }

    func response() -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json))
        )
    }
}
