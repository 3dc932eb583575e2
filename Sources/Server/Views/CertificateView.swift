import Codecs
import Foundation
import HTTPTypes
import Hummingbird
import MetadataStore

/// An issued certificate as the API shows it.
struct CertificateView: Encodable {
    var ca: String
    var serial: String
    var subject: String
    var alternativeNames: [String]
    var category: String
    var status: String
    var notBefore: Date
    var notAfter: Date
    var metadata: [String: String]
    /// The certificate, shown as PEM.
    var der: [UInt8]
    /// Issuing CA first, up to the root, shown as PEM; in answers to issuance only.
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

    enum CodingKeys: String, CodingKey {
        case ca, serial, subject, alternativeNames, category, status, notBefore, notAfter, metadata, certificate, chain
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ca, forKey: .ca)
        try container.encode(serial, forKey: .serial)
        try container.encode(subject, forKey: .subject)
        try container.encode(alternativeNames, forKey: .alternativeNames)
        try container.encode(category, forKey: .category)
        try container.encode(status, forKey: .status)
        try container.encode(notBefore, forKey: .notBefore)
        try container.encode(notAfter, forKey: .notAfter)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(PEM.encode(der), forKey: .certificate)
        try container.encodeIfPresent(chain?.map { PEM.encode($0) }, forKey: .chain)
    }
}

extension CertificateView {
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
