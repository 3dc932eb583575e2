import CA
import CMP
import Codecs
import CustosX509
import Foundation
import MetadataStore
import SwiftASN1
import X509

/// CMP's general messages (genm/genp, RFC 9483 section 4.3): the CA certificates, a root CA's update,
/// the certificate request template, and current CRLs. Any client the profile trusts may ask.
extension EnrollmentService {
    func generalMessage(_ items: [InfoTypeAndValue], _ exchange: CMPExchange) async throws -> CMPReply {
        try await recordClosedTransaction(exchange)
        _ = try await authenticate(exchange.credentials, for: exchange.profile)
        guard !items.isEmpty else { throw CMPError(.badRequest, "the genm asks for nothing") }
        let chain = try await authority.chain(exchange.profile.ca)
        var answers: [InfoTypeAndValue] = []
        for item in items {
            switch item.type {
            case CMPObjectIdentifiers.caCerts:
                answers.append(InfoTypeAndValue(item.type, value: try Self.sequence(chain.map { try derBytes($0) })))
            case CMPObjectIdentifiers.rootCaCert, CMPObjectIdentifiers.rootCaKeyUpdate:
                answers.append(try rootUpdate(asked: item, root: chain.last))
            case CMPObjectIdentifiers.certReqTemplate:
                await answers.append(
                    InfoTypeAndValue(item.type, value: try certificateRequestTemplate(exchange.profile))
                )
            case CMPObjectIdentifiers.crlStatusList:
                answers.append(try await currentCRLs(asked: item, profile: exchange.profile))
            default:
                throw CMPError(.badRequest, "info type \(item.type) is not one this server answers")
            }
        }
        await auditCMP(
            exchange.profile,
            client: exchange.clientName,
            body: "genm",
            outcome: "success: " + items.map { "\($0.type)" }.joined(separator: ", "),
            exchange.requestID
        )
        return CMPReply(.genp(answers))
    }

    /// rootCaKeyUpdate (RFC 9483 section 4.3.2): the current root when the client's root (the genm's
    /// value) is another, else no value. Custos does not make link certificates (newWithOld,
    /// oldWithNew): a client takes the new root from an authenticated answer.
    ///
    /// ```
    /// RootCaKeyUpdateContent ::= SEQUENCE {
    ///   newWithNew       CMPCertificate,
    ///   newWithOld   [0] CMPCertificate OPTIONAL,
    ///   oldWithNew   [1] CMPCertificate OPTIONAL }
    /// ```
    private func rootUpdate(asked: InfoTypeAndValue, root: Certificate?) throws -> InfoTypeAndValue {
        guard let root, let old = asked.value else {
            return InfoTypeAndValue(CMPObjectIdentifiers.rootCaKeyUpdate)
        }
        let current = try derBytes(root)
        guard old != current else { return InfoTypeAndValue(CMPObjectIdentifiers.rootCaKeyUpdate) }
        return InfoTypeAndValue(CMPObjectIdentifiers.rootCaKeyUpdate, value: try Self.sequence([current]))
    }

    /// The certificate request template (RFC 9483 section 4.3.3): an empty template (the profile's
    /// subject template fills the subject) and, when the policy restricts them, the key types allowed.
    ///
    /// ```
    /// CertReqTemplateContent ::= SEQUENCE { certTemplate CertTemplate, keySpec Controls OPTIONAL }
    /// ```
    private func certificateRequestTemplate(_ profile: EnrollmentProfile) async throws -> [UInt8] {
        let policy = try await authority.policy(ca: profile.ca, category: profile.category)
        var keySpec: [[UInt8]] = []
        for name in policy.allowedKeyAlgorithms {
            keySpec.append(contentsOf: try Self.keySpecControls(name))
        }
        var coder = DER.Serializer()
        coder.appendConstructedNode(identifier: .sequence) { content in
            content.appendConstructedNode(identifier: .sequence) { _ in }
            guard !keySpec.isEmpty else { return }
            content.appendConstructedNode(identifier: .sequence) { list in
                for control in keySpec { list.serializeRawBytes(control) }
            }
        }
        return coder.serializedBytes
    }

    /// id-regCtrl-algId with the key's AlgorithmIdentifier, or id-regCtrl-rsaKeyLen (RFC 9483 section
    /// 4.3.3) for a policy's key type name.
    private static func keySpecControls(_ name: String) throws -> [[UInt8]] {
        func control(_ type: ASN1ObjectIdentifier, _ value: (inout DER.Serializer) throws -> Void) throws -> [UInt8] {
            var coder = DER.Serializer()
            try coder.appendConstructedNode(identifier: .sequence) { item in
                try item.serialize(type)
                try value(&item)
            }
            return coder.serializedBytes
        }
        func algorithm(_ oid: ASN1ObjectIdentifier, curve: ASN1ObjectIdentifier?) throws -> [UInt8] {
            try control(CMPObjectIdentifiers.algorithmControl) { value in
                try value.appendConstructedNode(identifier: .sequence) { identifier in
                    try identifier.serialize(oid)
                    if let curve { try identifier.serialize(curve) }
                }
            }
        }
        let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
        switch name {
        case "ec-p256": return [try algorithm(ecPublicKey, curve: [1, 2, 840, 10045, 3, 1, 7])]
        case "ec-p384": return [try algorithm(ecPublicKey, curve: [1, 3, 132, 0, 34])]
        case "ec-p521": return [try algorithm(ecPublicKey, curve: [1, 3, 132, 0, 35])]
        case "ed25519": return [try algorithm([1, 3, 101, 112], curve: nil)]
        default:
            guard name.hasPrefix("rsa-"), let bits = Int(name.dropFirst(4)) else { return [] }
            return [try control(CMPObjectIdentifiers.rsaKeyLengthControl) { try $0.serialize(bits) }]
        }
    }

    /// The profile CA's current CRL unless the client has it already (RFC 9483 section 4.3.4): the
    /// genm's CRLStatus list names the CRLs the client holds with their thisUpdate.
    ///
    /// ```
    /// CRLStatusListValue ::= SEQUENCE SIZE (1..MAX) OF CRLStatus
    /// CRLStatus ::= SEQUENCE { source CRLSource, thisUpdate Time OPTIONAL }
    /// CRLsValue ::= SEQUENCE SIZE (1..MAX) OF CertificateList
    /// ```
    private func currentCRLs(asked: InfoTypeAndValue, profile: EnrollmentProfile) async throws -> InfoTypeAndValue {
        let current = try await authority.crls.current(profile.ca)
        var newest: Int64?
        if let value = asked.value {
            let list = try DER.parse(value)
            guard case .constructed(let statuses) = list.content else {
                throw CMPError(.badDataFormat, "the crlStatusList is not a SEQUENCE")
            }
            for status in statuses {
                guard case .constructed(let fields) = status.content else {
                    throw CMPError(.badDataFormat, "a CRLStatus is not a SEQUENCE")
                }
                var iterator = fields.makeIterator()
                _ = iterator.next()
                if let time = iterator.next() {
                    let seconds = try Self.seconds(time)
                    newest = max(newest ?? seconds, seconds)
                }
            }
        }
        if let newest, newest >= current.thisUpdate {
            return InfoTypeAndValue(CMPObjectIdentifiers.crls)
        }
        return InfoTypeAndValue(CMPObjectIdentifiers.crls, value: try Self.sequence([current.der]))
    }

    private static func seconds(_ node: ASN1Node) throws -> Int64 {
        let date: Date
        switch node.identifier {
        case .utcTime:
            let time = try UTCTime(derEncoded: node)
            date = CMPTime.date(
                try GeneralizedTime(
                    year: time.year,
                    month: time.month,
                    day: time.day,
                    hours: time.hours,
                    minutes: time.minutes,
                    seconds: time.seconds,
                    fractionalSeconds: 0
                )
            )
        case .generalizedTime: date = CMPTime.date(try GeneralizedTime(derEncoded: node))
        default: throw CMPError(.badDataFormat, "a CRLStatus thisUpdate is not a Time")
        }
        return Int64(date.timeIntervalSince1970)
    }

    /// `SEQUENCE OF` elements given in DER.
    static func sequence(_ elements: [[UInt8]]) throws -> [UInt8] {
        var coder = DER.Serializer()
        coder.appendConstructedNode(identifier: .sequence) { list in
            for element in elements { list.serializeRawBytes(element) }
        }
        return coder.serializedBytes
    }
}
