import CA
import Ceremony
import Codecs
import CustosX509
import Foundation
import HTTPTypes
import Hummingbird
import MetadataStore
import PKCS11
import Signing
import SwiftASN1
import X509

/// `/v1/cas`: create and list CAs, fetch their certificates and chains, issue from CSRs, read issued
/// certificates, and set issuance policies. `/ca/<id>.crt` serves a CA certificate to relying parties
/// (the CA-issuers URL of what it signs).
struct CARoutes {
    let authority: CertificateAuthority
    let maxBodyBytes: Int

    struct CreateBody: Decodable {
        var id: String
        var subject: String
        var algorithm: String
        var validityDays: Int?
        var pathLength: Int?
        var parent: String?
        var tenant: String?
        /// A sub-CA of a parent outside Custos (pending until its certificate is imported).
        var external: Bool?
    }

    struct ImportBody: Decodable {
        /// PEM: the certificate the external parent issued.
        var certificate: String
        /// PEM: the parent's chain above it, parent first.
        var issuerChain: String
    }

    /// The password of a PKCS#12 file sent to the bulk import (a header, so that it is never in a
    /// logged URL).
    static let pkcs12PasswordHeader = HTTPField.Name("X-PKCS12-Password")!

    /// A CA whose key a ceremony made on this token: the signed transcript (the file's text), the
    /// CA certificate (PEM), for a sub-CA its issuers (PEM), and optionally the audit key's
    /// fingerprint the transcript must be signed by.
    struct ImportCeremonyBody: Decodable {
        var id: String
        var transcript: String
        var certificate: String
        var chain: [String]?
        var auditKey: String?
        var tenant: String?
    }

    struct ImportCABody: Decodable {
        var id: String
        /// PEM: a CA certificate of another PKI.
        var certificate: String?
        /// Base64: a PKCS#12 file with a CA's certificate and private key, which moves into the HSM.
        var pkcs12: String?
        /// The PKCS#12 file's password.
        var password: String?
        /// An imported CA that signed it.
        var parent: String?
        var tenant: String?
    }

    struct RenewBody: Decodable {
        var rekey: Bool?
        var validityDays: Int?
    }

    struct RenewCertificateBody: Decodable {
        /// PEM `CERTIFICATE REQUEST` for a new key; absent: the same key again.
        var csr: String?
        var validityDays: Int?
    }

    struct IssueBody: FlatJSONDecodable, Equatable {
        /// PEM `CERTIFICATE REQUEST`.
        var csr: String
        var category: String
        var validityDays: Int?
        var metadata: [String: String]?

        init?(flat members: [String: FlatJSON.Value]) {
            guard case .string(let csr) = members["csr"], case .string(let category) = members["category"] else {
                return nil
            }
            (self.csr, self.category) = (csr, category)
            switch members["validityDays"] {
            case nil, .null: validityDays = nil
            case .integer(let days): validityDays = days
            default: return nil
            }
            switch members["metadata"] {
            case nil, .null: metadata = nil
            case .strings(let pairs): metadata = pairs
            default: return nil
            }
        }
    }

    struct RevokeBody: Decodable {
        /// RFC 5280 name; default `unspecified`.
        var reason: String?
        /// RFC 3339.
        var invalidityDate: Date?
    }

    struct CRLView: Encodable {
        var ca: String
        var number: UInt64
        var thisUpdate: Date
        var nextUpdate: Date
        var entries: Int
        var delta: CRLView.Delta?

        struct Delta: Encodable {
            var number: UInt64
            var entries: Int
            var nextUpdate: Date
        }
    }

    struct CAView: Encodable {
        var id: String
        var tenant: String
        var kind: String
        var state: String
        var subject: String
        var parent: String?
        var created: Date
        var serial: String?
        var notBefore: Date?
        var notAfter: Date?
        var pathLength: Int?
        var certificate: String?
        /// For an external sub-CA: the CSR to send to the parent.
        var csr: String?
        var previousCertificates: Int

        init(_ authority: Authority) {
            id = authority.id
            tenant = authority.record.tenant
            kind = authority.record.kind.rawValue
            state = authority.record.state.rawValue
            subject = authority.record.subject
            parent = authority.record.parent
            created = Date(timeIntervalSince1970: Double(authority.record.created) / 1e9)
            serial = authority.certificate.map { Hex.encode(Array($0.serialNumber.bytes)) }
            notBefore = authority.certificate?.notValidBefore
            notAfter = authority.certificate?.notValidAfter
            pathLength = authority.maxPathLength
            certificate = authority.record.certificate.map { PEM.encode($0) }
            csr = authority.record.csr.map { PEM.encode($0, label: "CERTIFICATE REQUEST") }
            previousCertificates = authority.record.previousCertificates.count
        }
    }

    struct CAList: Encodable {
        var cas: [CAView]
        var nextCursor: String?
    }

    func add(public router: Router<CustosRequestContext>, protected group: RouterGroup<CustosRequestContext>) {
        router.get("ca/:file") { _, context in
            let file = try context.parameters.require("file")
            guard file.hasSuffix(".crt") else { throw APIError(.notFound, "not_found", "CA certificates end in .crt") }
            let name = String(file.dropLast(4))
            // One URL per CA key, like CRLs (see CRL scopes): `<ca>.crt` is the newest certificate of
            // the CA's first key, `<ca>.<key>.crt` of a key made by a re-key. What a certificate's
            // CA-issuers URL names thus always certifies the key that signed it.
            let (ca, _) = CertificateAuthority.parseCRLScope(name)
            let certificate =
                try authority.authority(ca).keyName == nil
                ? try authority.chain(name)[0] : try authority.certificate(forScope: name)
            return Self.binary(try CertificateView.der(certificate), type: "application/pkix-cert")
        }
        router.get("crl/:file") { _, context in
            let file = try context.parameters.require("file")
            let delta = file.hasSuffix(".delta.crl")
            guard file.hasSuffix(".crl") else { throw APIError(.notFound, "not_found", "CRLs end in .crl") }
            let ca = String(file.dropLast(delta ? 10 : 4))
            return Self.crlResponse(try await authority.crls.current(ca, delta: delta))
        }
        group.post("v1/cas") { request, context in
            try context.require(.admin, .officer)
            let body = try await JSONBody.decode(CreateBody.self, from: request, limit: maxBodyBytes)
            if let asked = body.tenant { try context.requireTenant(asked) }
            if let parent = body.parent, let record = try? authority.authority(parent).record {
                try context.requireTenant(record.tenant)
            }
            guard let algorithm = KeyAlgorithm(rawValue: body.algorithm) else {
                throw APIError.badRequest(
                    "unknown_algorithm",
                    "unknown algorithm \"\(body.algorithm)\"; one of "
                        + KeyAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            let created = try await authority.create(
                .init(
                    id: body.id,
                    subject: body.subject,
                    algorithm: algorithm,
                    validityDays: body.validityDays,
                    pathLength: body.pathLength,
                    parent: body.parent,
                    tenant: body.tenant ?? context.tenantLimit,
                    external: body.external ?? false
                ),
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(status: .created, body: CAView(created))
        }
        group.post("v1/cas/import-ceremony") { request, context in
            // A CA key made in a key ceremony goes into service by reference: an administrator's act.
            try context.require(.admin)
            let body = try await JSONBody.decode(ImportCeremonyBody.self, from: request, limit: maxBodyBytes)
            if let asked = body.tenant { try context.requireTenant(asked) }
            let transcript: Transcript
            do {
                transcript = try SignedTranscript.verify(
                    data: Array(body.transcript.utf8),
                    expectedAuditKey: body.auditKey
                )
            } catch {
                throw APIError.badRequest("invalid_transcript", "\(error)")
            }
            let certificates = try CertificateImporter.readCertificates(Array(body.certificate.utf8))
            guard certificates.count == 1 else {
                throw APIError.badRequest("invalid_certificate", "certificate must hold exactly one certificate")
            }
            let chain = try (body.chain ?? []).flatMap { try CertificateImporter.readCertificates(Array($0.utf8)) }
            var spki = DER.Serializer()
            try spki.serialize(certificates[0].publicKey)
            guard let (recorded, reference) = transcript.keyReference(forSPKI: spki.serializedBytes) else {
                throw APIError.badRequest(
                    "invalid_transcript",
                    "the transcript records no key whose public key is the certificate's"
                )
            }
            let serial = authority.signing.keyStore.pool.tokenInfo.serialNumber
            guard transcript.token?.serial == serial else {
                throw APIError.badRequest(
                    "invalid_transcript",
                    "the ceremony ran on token serial \(transcript.token?.serial ?? "?"); this Custos uses \(serial)"
                )
            }
            let adopted = try await authority.adoptAuthority(
                id: body.id,
                certificate: certificates[0],
                chain: chain,
                key: reference,
                tenant: body.tenant ?? context.tenantLimit,
                ceremony:
                    "the \(transcript.type) ceremony of \(transcript.steps.first?.time ?? "?") (key \(recorded.label))",
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(status: .created, body: CAView(adopted))
        }
        group.post("v1/cas/import") { request, context in
            try context.require(.admin, .officer)
            let body = try await JSONBody.decode(ImportCABody.self, from: request, limit: maxBodyBytes)
            if let asked = body.tenant { try context.requireTenant(asked) }
            let requester = Requester(actor: context.actor, requestID: context.id)
            if let pkcs12 = body.pkcs12 {
                // Taking over a CA key is an administrator's act, as is every key import.
                try context.require(.admin)
                guard body.certificate == nil, body.parent == nil else {
                    throw APIError.badRequest("invalid_input", "give pkcs12 or certificate (and parent), not both")
                }
                guard let der = Base64.decode(pkcs12), !der.isEmpty else {
                    throw APIError.badRequest("invalid_input", "pkcs12 must be the file in standard, padded base64")
                }
                let imported = try await authority.importAuthority(
                    id: body.id,
                    pkcs12: der,
                    password: Array((body.password ?? "").utf8),
                    tenant: body.tenant ?? context.tenantLimit,
                    requester: requester
                )
                return JSONResponse(status: .created, body: CAView(imported))
            }
            guard let certificate = body.certificate else {
                throw APIError.badRequest("invalid_input", "certificate (PEM) or pkcs12 (base64) is required")
            }
            let certificates = try CertificateImporter.readCertificates(Array(certificate.utf8))
            guard certificates.count == 1 else {
                throw APIError.badRequest("invalid_certificate", "certificate must hold exactly one certificate")
            }
            let imported = try await CertificateImporter(
                store: authority.store,
                defaultTenant: authority.configuration.defaultTenant
            )
            .importAuthority(
                id: body.id,
                certificate: certificates[0],
                parent: body.parent,
                tenant: body.tenant ?? context.tenantLimit,
                requester: requester
            )
            return JSONResponse(status: .created, body: CAView(imported))
        }
        group.post("v1/cas/:ca/certificates/import") { request, context in
            try context.require(.admin, .officer)
            let ca = try CARoutes.ca(context, authority)
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: maxBodyBytes) } catch {
                throw APIError(.contentTooLarge, "body_too_large", "the request body exceeds \(maxBodyBytes) bytes")
            }
            var metadata: [String: String] = [:]
            for (name, value) in request.uri.queryParameters where name.hasPrefix("metadata.") {
                metadata[String(name.dropFirst(9))] = String(value)
            }
            let result = try await CertificateImporter(store: authority.store).importCertificates(
                try CertificateImporter.readCertificates(
                    Array(buffer.readableBytesView),
                    pkcs12Password: request.headers[Self.pkcs12PasswordHeader].map { Array($0.utf8) }
                ),
                ca: ca,
                metadata: metadata,
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(body: result)
        }
        group.get("v1/cas") { request, context in
            try context.require(.admin, .officer, .auditor)
            let limit = try KeyRoutes.limit(request)
            let asked = request.uri.queryParameters.get("tenant")
            if let asked { try context.requireTenant(asked) }
            let page = try authority.list(
                after: request.uri.queryParameters.get("cursor"),
                limit: limit,
                tenant: asked ?? context.tenantLimit
            )
            return JSONResponse(
                body: CAList(cas: page.map(CAView.init), nextCursor: page.count == limit ? page.last?.id : nil)
            )
        }
        group.get("v1/cas/:ca") { _, context in
            try context.require(.admin, .officer, .auditor)
            return JSONResponse(body: CAView(try authority.authority(try CARoutes.ca(context, authority))))
        }
        group.get("v1/cas/:ca/certificate") { request, context in
            try context.require(.admin, .officer, .auditor)
            let chain = try authority.chain(try CARoutes.ca(context, authority))
            return try Self.certificates([chain[0]], format: request.uri.queryParameters.get("format") ?? "pem")
        }
        group.get("v1/cas/:ca/chain") { request, context in
            try context.require(.admin, .officer, .auditor)
            let chain = try authority.chain(try CARoutes.ca(context, authority))
            return try Self.certificates(chain, format: request.uri.queryParameters.get("format") ?? "pem")
        }
        group.post("v1/cas/:ca/certificates") { request, context in
            try context.require(.admin, .officer)
            let ca = try CARoutes.ca(context, authority)
            let body = try await JSONBody.decode(IssueBody.self, from: request, limit: maxBodyBytes)
            let issued = try await authority.issue(
                ca: ca,
                try Self.issueRequest(body),
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return CertificateView(issued.record, chain: issued.chain).response(status: .created)
        }
        group.post("v1/cas/:ca/certificates/batch") { request, context in
            try context.require(.admin, .officer)
            let ca = try CARoutes.ca(context, authority)
            let body = try await JSONBody.decode(BatchIssuance.Body.self, from: request, limit: maxBodyBytes)
            guard (1...CertificateAuthority.maxBatchRequests).contains(body.requests.count) else {
                throw APIError.badRequest(
                    "invalid_input",
                    "requests: from 1 to \(CertificateAuthority.maxBatchRequests) in one batch, not \(body.requests.count)"
                )
            }
            // A request the route itself refuses (unknown category, no PEM CSR) fails alone, like one
            // the CA refuses.
            var items = [BatchIssuance.Item?](repeating: nil, count: body.requests.count)
            var accepted: [(index: Int, request: CertificateAuthority.IssueRequest)] = []
            for (index, item) in body.requests.enumerated() {
                do throws(APIError) {
                    accepted.append((index, try Self.issueRequest(item)))
                } catch {
                    items[index] = .failed(code: error.code, message: error.message)
                }
            }
            let chain = try authority.chain(ca).map { try CertificateView.der($0) }
            if !accepted.isEmpty {
                let results = try await authority.issueBatch(
                    ca: ca,
                    accepted.map(\.request),
                    requester: Requester(actor: context.actor, requestID: context.id)
                )
                for ((index, _), result) in zip(accepted, results) {
                    switch result {
                    case .success(let issued): items[index] = .issued(CertificateView(issued.record, chain: nil))
                    case .failure(let error):
                        let answer = APIError.from(error)
                        items[index] = .failed(code: answer.code, message: answer.message)
                    }
                }
            }
            return BatchIssuance.Answer(
                ca: ca,
                chain: chain,
                results: items.map { $0 ?? .failed(code: "internal_error", message: "not processed") }
            ).response()
        }
        group.get("v1/cas/:ca/certificates/:serial") { request, context in
            try context.require(.admin, .officer, .auditor)
            let ca = try CARoutes.ca(context, authority)
            let record = try authority.certificate(ca: ca, serial: try context.parameters.require("serial"))
            switch request.uri.queryParameters.get("format") ?? "json" {
            case "json": return try JSONResponse(body: CertificateView(record, chain: nil)).makeResponse()
            default:
                let certificate = try Certificate(derEncoded: record.der)
                return try Self.certificates(
                    [certificate] + authority.chain(ca),
                    format: request.uri.queryParameters.get("format") ?? "pem",
                    leafOnly: request.uri.queryParameters.get("chain") != "true"
                )
            }
        }
        group.post("v1/cas/:ca/certificates/:serial/renew") { request, context in
            try context.require(.admin, .officer)
            let ca = try CARoutes.ca(context, authority)
            let body = try await JSONBody.decode(RenewCertificateBody.self, from: request, limit: maxBodyBytes)
            let renewed = try await authority.renewCertificate(
                ca: ca,
                serial: try context.parameters.require("serial"),
                csr: try body.csr.map { text throws(APIError) in try Self.csrDER(text) },
                validityDays: body.validityDays,
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return CertificateView(renewed.record, chain: renewed.chain).response(status: .created)
        }
        group.get("v1/cas/:ca/csr") { _, context in
            try context.require(.admin, .officer, .auditor)
            let ca = try authority.authority(try CARoutes.ca(context, authority))
            guard let csr = ca.record.csr else {
                throw APIError(.notFound, "not_found", "CA \(ca.id) has no CSR: only external sub-CAs do")
            }
            return Self.binary(
                Array(PEM.encode(csr, label: "CERTIFICATE REQUEST").utf8),
                type: "application/pkcs10"
            )
        }
        group.put("v1/cas/:ca/certificate") { request, context in
            try context.require(.admin, .officer)
            let body = try await JSONBody.decode(ImportBody.self, from: request, limit: maxBodyBytes)
            func parse(_ text: String, _ field: String) throws(APIError) -> [Certificate] {
                do {
                    let certificates = try PEMCertificates.parse(text)
                    guard !certificates.isEmpty else {
                        throw APIError.badRequest("invalid_certificate", "\(field) is empty")
                    }
                    return certificates
                } catch let error as APIError {
                    throw error
                } catch {
                    throw APIError.badRequest("invalid_certificate", "\(field) is not a PEM certificate list: \(error)")
                }
            }
            let imported = try await authority.importCertificate(
                ca: try CARoutes.ca(context, authority),
                certificate: try parse(body.certificate, "certificate")[0],
                issuerChain: try parse(body.issuerChain, "issuerChain"),
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(body: CAView(imported))
        }
        group.post("v1/cas/:ca/renew") { request, context in
            try context.require(.admin, .officer)
            let body = try await JSONBody.decode(RenewBody.self, from: request, limit: maxBodyBytes)
            let renewed = try await authority.renew(
                ca: try CARoutes.ca(context, authority),
                rekey: body.rekey ?? false,
                validityDays: body.validityDays,
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(body: CAView(renewed))
        }
        group.post("v1/cas/:ca/retire") { _, context in
            try context.require(.admin, .officer)
            let retired = try await authority.retire(
                ca: try CARoutes.ca(context, authority),
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(body: CAView(retired))
        }
        group.post("v1/cas/:ca/certificates/:serial/revoke") { request, context in
            try context.require(.admin, .officer)
            let ca = try CARoutes.ca(context, authority)
            let serial = try context.parameters.require("serial")
            let body = try await JSONBody.decode(RevokeBody.self, from: request, limit: maxBodyBytes, dates: true)
            guard let reason = CRLReason(name: body.reason ?? "unspecified") else {
                throw APIError.badRequest(
                    "invalid_input",
                    "unknown reason \"\(body.reason ?? "")\"; one of "
                        + CRLReason.allCases.filter { $0 != .removeFromCRL }.map(\.description).joined(separator: ", ")
                )
            }
            let record = try await authority.revoke(
                ca: ca,
                serial: serial,
                reason: reason,
                invalidityDate: body.invalidityDate,
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return try JSONResponse(body: CertificateView(record, chain: nil)).makeResponse()
        }
        group.get("v1/cas/:ca/crl") { request, context in
            try context.require(.admin, .officer, .auditor)
            let ca = try CARoutes.ca(context, authority)
            return Self.crlResponse(
                try await authority.crls.current(
                    try authority.currentCRLScope(ca),
                    delta: request.uri.queryParameters.get("delta") == "true"
                )
            )
        }
        group.post("v1/cas/:ca/crl") { _, context in
            try context.require(.admin, .officer)
            let ca = try CARoutes.ca(context, authority)
            let scope = try authority.currentCRLScope(ca)
            let full = try await authority.crls.publish(scope)
            let delta = try await authority.crls.current(scope, delta: true)
            return JSONResponse(
                body: CRLView(
                    ca: ca,
                    number: full.number,
                    thisUpdate: Date(timeIntervalSince1970: Double(full.thisUpdate)),
                    nextUpdate: Date(timeIntervalSince1970: Double(full.nextUpdate)),
                    entries: full.entries,
                    delta: .init(
                        number: delta.number,
                        entries: delta.entries,
                        nextUpdate: Date(timeIntervalSince1970: Double(delta.nextUpdate))
                    )
                )
            )
        }
        group.put("v1/cas/:ca/policies/:category") { request, context in
            try context.require(.admin, .officer)
            let ca = try CARoutes.ca(context, authority)
            let category = try Self.category(try context.parameters.require("category"))
            let policy = try await JSONBody.decode(IssuancePolicy.self, from: request, limit: maxBodyBytes)
            try await authority.setPolicy(
                policy,
                ca: ca == "*" ? nil : ca,
                category: category,
                requester: Requester(actor: context.actor, requestID: context.id)
            )
            return JSONResponse(body: policy)
        }
        group.get("v1/cas/:ca/policies/:category") { _, context in
            try context.require(.admin, .officer, .auditor)
            let ca = try CARoutes.ca(context, authority)
            if ca != "*" { _ = try authority.authority(ca) }
            let category = try Self.category(try context.parameters.require("category"))
            return JSONResponse(body: try authority.policy(ca: ca == "*" ? "" : ca, category: category))
        }
    }

    /// The `{ca}` of the path, once the credential may act on it: a credential limited to a tenant
    /// reaches only that tenant's CAs (and not the shared `*` policies).
    static func ca(_ context: CustosRequestContext, _ authority: CertificateAuthority) throws -> String {
        let id = try context.parameters.require("ca")
        guard let limit = context.tenantLimit else { return id }
        guard id != "*" else { throw APIError.forbidden("this credential is limited to tenant \"\(limit)\"") }
        let record = try? authority.authority(id).record
        // An unknown CA is reported as such by the route itself.
        if let record { try context.requireTenant(record.tenant) }
        return id
    }

    static func category(_ text: String) throws(APIError) -> CertificateCategory {
        guard let category = CertificateCategory(rawValue: text) else {
            throw APIError(
                .notFound,
                "unknown_category",
                "no category \"\(text)\"; one of "
                    + CertificateCategory.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        return category
    }

    /// An issuance request from its JSON body: a known category and a PEM CSR.
    static func issueRequest(_ body: IssueBody) throws(APIError) -> CertificateAuthority.IssueRequest {
        guard let category = CertificateCategory(rawValue: body.category) else {
            throw APIError.badRequest(
                "invalid_input",
                "unknown category \"\(body.category)\"; one of "
                    + CertificateCategory.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        return .init(
            csr: try csrDER(body.csr),
            category: category,
            validityDays: body.validityDays,
            metadata: body.metadata ?? [:]
        )
    }

    /// A CSR given as PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`).
    static func csrDER(_ text: String) throws(APIError) -> [UInt8] {
        let block: PEM.Block
        do { block = try PEM.block(text) } catch {
            throw APIError.badRequest("invalid_csr", "csr is not a PEM certificate request: \(error)")
        }
        guard block.label == "CERTIFICATE REQUEST" || block.label == "NEW CERTIFICATE REQUEST" else {
            throw APIError.badRequest("invalid_csr", "csr is a PEM \(block.label), not a CERTIFICATE REQUEST")
        }
        return block.der
    }

    /// Certificates as `pem` (concatenated), `der` (one certificate) or `pkcs7` (certs-only SignedData, DER).
    static func certificates(_ chain: [Certificate], format: String, leafOnly: Bool = false) throws -> Response {
        let certificates = leafOnly ? Array(chain.prefix(1)) : chain
        switch format {
        case "pem":
            let text = try certificates.map { PEM.encode(try CertificateView.der($0)) + "\n" }.joined()
            return binary(Array(text.utf8), type: "application/pem-certificate-chain")
        case "der":
            guard certificates.count == 1 || leafOnly else {
                throw APIError.badRequest(
                    "invalid_input",
                    "DER holds one certificate; use format=pem or pkcs7 for a chain"
                )
            }
            return binary(try CertificateView.der(certificates[0]), type: "application/pkix-cert")
        case "pkcs7":
            return binary(
                try PKCS7CertificateBundle.der(certificates),
                type: "application/pkcs7-mime; smime-type=certs-only"
            )
        default:
            throw APIError.badRequest("invalid_input", "format must be pem, der or pkcs7")
        }
    }

    /// A CRL with caching headers from its validity: relying parties and proxies may keep it until
    /// nextUpdate.
    static func crlResponse(_ crl: CRLPublisher.Published) -> Response {
        let now = Int64(Date().timeIntervalSince1970)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/pkix-crl",
                .cacheControl: "public, max-age=\(max(0, crl.nextUpdate - now)), no-transform",
                .expires: HTTPDate.format(crl.nextUpdate),
                .lastModified: HTTPDate.format(crl.thisUpdate),
                .eTag: "\"\(crl.number)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: crl.der))
        )
    }

    static func binary(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

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

    static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
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
