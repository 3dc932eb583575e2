import APIModels
import CA
import Codecs
import Enrollment
import Foundation
import MetadataStore
import X509

extension EnrollmentProfileView {
    init(_ profile: EnrollmentProfile) {
        var endpoints: [String] = []
        if profile.protocols.contains(.est) {
            endpoints.append("/.well-known/est/\(profile.id)/")
            if profile.id == "default" { endpoints.append("/.well-known/est/") }
        }
        if profile.protocols.contains(.scep) { endpoints.append("/scep/\(profile.id)") }
        if profile.protocols.contains(.acme) { endpoints.append("/acme/\(profile.id)/directory") }
        if profile.protocols.contains(.portal) { endpoints.append("/portal/signin?profile=\(profile.id)") }
        if profile.protocols.contains(.cmp) {
            endpoints.append("/.well-known/cmp/p/\(profile.id)")
            if profile.id == "default" { endpoints.append("/.well-known/cmp") }
        }
        self.init(
            id: profile.id,
            ca: profile.ca,
            category: profile.category.rawValue,
            validityDays: profile.validityDays,
            subjectTemplate: profile.subjectTemplate,
            protocols: profile.protocols.map(\.rawValue),
            authentication: EnrollmentAuthenticationBody(
                sharedPassword: profile.authentication.sharedPassword,
                oneTimePasswords: profile.authentication.oneTimePasswords,
                clientCertificateAnchors: profile.authentication.clientCertificateAnchors
            ),
            approval: profile.approval.rawValue,
            renewal: EnrollmentRenewalBody(
                windowDays: profile.renewal.windowDays,
                allowSameKey: profile.renewal.allowSameKey
            ),
            description: profile.description,
            acme: profile.acme.map { policy in
                EnrollmentACMEBody(
                    allowedDomains: policy.allowedDomains,
                    allowedIPRanges: policy.allowedIPRanges,
                    allowWildcards: policy.allowWildcards,
                    challenges: policy.challenges,
                    termsOfService: policy.termsOfService,
                    externalAccountRequired: policy.externalAccountRequired,
                    ordersPerAccountPerHour: policy.ordersPerAccountPerHour,
                    ordersPerIdentifierPerWeek: policy.ordersPerIdentifierPerWeek,
                    pendingHours: policy.pendingHours,
                    validAuthorizationDays: policy.validAuthorizationDays
                )
            },
            cmp: profile.cmp.map { policy in
                EnrollmentCMPBody(
                    implicitConfirm: policy.implicitConfirm,
                    messageTimeSkewSeconds: policy.messageTimeSkewSeconds,
                    checkAfterSeconds: policy.checkAfterSeconds,
                    confirmWaitSeconds: policy.confirmWaitSeconds
                )
            },
            whenUpstreamUnavailable: (profile.whenUpstreamUnavailable ?? .fail).rawValue,
            endpoints: endpoints
        )
    }
}

extension EnrollmentSecretView {
    init(_ record: EnrollmentSecretRecord, secret: String? = nil) {
        self.init(
            id: record.id,
            profile: record.profile,
            kind: record.kind.rawValue,
            label: record.label,
            created: Date(nanoseconds: record.created),
            expires: record.expires.map(Date.init(nanoseconds:)),
            used: record.used.map(Date.init(nanoseconds:)),
            secret: secret
        )
    }
}

extension EnrollmentRequestView {
    init(_ record: EnrollmentRequestRecord) {
        // CMP holds a CRMF request rather than a CSR: the service reads either.
        let subject = EnrollmentService.requestedSubject(of: record)
        self.init(
            id: record.id,
            protocol: record.protocolName,
            profile: record.profile,
            client: record.client,
            subject: subject ?? "",
            state: record.state.rawValue,
            created: Date(nanoseconds: record.created),
            renews: record.renews,
            decidedBy: record.decidedBy,
            decided: record.decided.map(Date.init(nanoseconds:)),
            reason: record.reason,
            serial: record.serial,
            csr: PEM.encode(record.csr, label: "CERTIFICATE REQUEST"),
            awaitingUpstream: record.awaitingUpstream,
            upstreamError: record.upstreamError
        )
    }
}

extension Date {
    /// A store time (nanoseconds since 1970).
    init(nanoseconds: Int64) { self.init(timeIntervalSince1970: Double(nanoseconds) / 1e9) }
}
