import APIModels
import Codecs
import Foundation
import HTTPTypes
import Hummingbird
import MetadataStore

/// An issued certificate as the API shows it (`APIModels.CertificateView`), kept as DER and written
/// straight into JSON: every issuance answers with one, and making its PEM strings first and then
/// encoding them with `JSONEncoder` cost several times more. `CertificateViewJSONTests` checks that
/// the bytes are the model's as `JSONEncoder` writes them.
struct CertificateAnswer {
    var ca: String
    var serial: String
    var subject: String
    var alternativeNames: [String]
    var category: String
    var status: String
    var notBefore: Date
    var notAfter: Date
    var metadata: [String: String]
    /// The certificate.
    var der: [UInt8]
    /// Issuing CA first, up to the root; in answers to issuance only.
    var chain: [[UInt8]]?

    init(_ record: CertificateRecord, chain: [[UInt8]]?) {
        ca = record.issuer
        serial = Hex.encode(record.serial)
        subject = record.subject
        alternativeNames = record.alternativeNames
        category = record.category
        status = record.status.rawValue
        notBefore = Date(timeIntervalSince1970: Double(record.notBefore) / 1e9)
        notAfter = Date(timeIntervalSince1970: Double(record.notAfter) / 1e9)
        metadata = record.metadata
        der = record.der
        self.chain = chain
    }

    /// The answer as the API model (PEM strings), for lists and for the comparison test.
    var model: CertificateView {
        CertificateView(
            ca: ca,
            serial: serial,
            subject: subject,
            alternativeNames: alternativeNames,
            category: category,
            status: status,
            notBefore: notBefore,
            notAfter: notAfter,
            metadata: metadata,
            certificate: PEM.encode(der),
            chain: chain?.map { PEM.encode($0) }
        )
    }
}

extension CertificateAnswer {
    /// The view as `JSONResponse` writes it, keys sorted, without `JSONEncoder`: issuance answers
    /// with one for every certificate.
    var json: [UInt8] {
        var json = JSONText(capacity: 1024 + (der.count + (chain?.reduce(0) { $0 + $1.count } ?? 0)) * 3 / 2)
        write(into: &json)
        return json.bytes
    }

    /// The view as a JSON object, keys sorted as `JSONResponse` sorts them.
    func write(into json: inout JSONText) {
        json.beginObject()
        json.key("alternativeNames")
        json.strings(alternativeNames)
        json.key("ca")
        json.string(ca)
        json.key("category")
        json.string(category)
        json.key("certificate")
        json.pem(der)
        if let chain {
            json.key("chain")
            json.beginArray()
            for certificate in chain { json.pem(certificate) }
            json.endArray()
        }
        json.key("metadata")
        json.stringObject(metadata)
        json.key("notAfter")
        json.date(Int64(notAfter.timeIntervalSince1970.rounded(.down)))
        json.key("notBefore")
        json.date(Int64(notBefore.timeIntervalSince1970.rounded(.down)))
        json.key("serial")
        json.string(serial)
        json.key("status")
        json.string(status)
        json.key("subject")
        json.string(subject)
        json.endObject()
    }

    func response(status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json))
        )
    }
}
