import CA
import CustosX509
import Enrollment
import Hummingbird
import MetadataStore
import X509

/// EST (RFC 7030, with RFC 8951's clarifications) at `/.well-known/est/<profile>/<operation>`; the
/// profile named `default` also answers without a label. Public routes: clients authenticate with
/// HTTP Basic (a profile's shared or a one-time password) or a TLS client certificate, as the profile
/// allows. Enrollment needs HTTPS; `cacerts` and `csrattrs` answer over either.
struct ESTRoutes {
    let enrollment: EnrollmentService
    /// Whether the server speaks TLS (enrollment over plain HTTP would send passwords in the clear).
    let overTLS: Bool
    /// Seconds a client waits before it polls a request held for approval.
    let retryAfterSeconds: Int
    static let maxRequestBytes = 64 * 1024

    func add(to router: Router<CustosRequestContext>) {
        for prefix in [".well-known/est", ".well-known/est/:profile"] {
            router.get("\(prefix)/cacerts", use: cacerts)
            router.get("\(prefix)/csrattrs", use: csrattrs)
            router.post("\(prefix)/simpleenroll", use: simpleenroll)
            router.post("\(prefix)/simplereenroll", use: simplereenroll)
            router.post("\(prefix)/serverkeygen", use: serverkeygen)
        }
    }

    /// The CA chain of the profile as certs-only PKCS#7 (RFC 7030 section 4.1).
    @Sendable func cacerts(_ request: Request, context: CustosRequestContext) async throws -> Response {
        await answer(context) { profile throws(ESTFailure) in
            _ = try await estProfile(profile)
            return try await Self.est(profile) { () throws(EnrollmentError) in
                let chain = try await enrollment.caCertificates(profile: profile)
                do { return try ESTMessages.certsOnly(chain.map { try derBytes($0) }) } catch {
                    throw EnrollmentError(.internalError, "\(error)")
                }
            }
        }
    }

    /// What the profile's policy asks of a CSR (RFC 7030 section 4.5); 204 when nothing.
    @Sendable func csrattrs(_ request: Request, context: CustosRequestContext) async throws -> Response {
        await answer(context) { profile throws(ESTFailure) in
            _ = try await estProfile(profile)
            let der = try await Self.est(profile) { () throws(EnrollmentError) in
                try await enrollment.csrAttributes(profile: profile)
            }
            guard der.count > 2 else { return Response(status: .noContent) }
            return ESTMessages.base64(der, type: "application/csrattrs")
        }
    }

    @Sendable func simpleenroll(_ request: Request, context: CustosRequestContext) async throws -> Response {
        await enroll(request, context, operation: .enroll)
    }

    /// Renewal: the TLS client certificate must be the certificate being renewed (RFC 7030 section 4.2.2).
    @Sendable func simplereenroll(_ request: Request, context: CustosRequestContext) async throws -> Response {
        await enroll(request, context, operation: .reenroll)
    }

    /// A key made in the HSM, answered encrypted to the client's RSA TLS certificate (RFC 7030 section 4.4).
    @Sendable func serverkeygen(_ request: Request, context: CustosRequestContext) async throws -> Response {
        await enroll(request, context, operation: .enroll, serverKeyGeneration: true)
    }

    private func enroll(
        _ request: Request,
        _ context: CustosRequestContext,
        operation: EnrollmentRequest.Operation,
        serverKeyGeneration: Bool = false
    ) async -> Response {
        let profile = context.parameters.get("profile") ?? "default"
        do throws(ESTFailure) {
            let csr: [UInt8]
            do throws(ESTFailure) {
                _ = try await estProfile(profile)
                guard overTLS else {
                    throw ESTFailure(.forbidden, "EST enrollment runs over HTTPS only (RFC 7030 section 3.2.2)")
                }
                try ESTMessages.requirePKCS10(request)
                let body: ByteBuffer
                do { body = try await request.body.collect(upTo: Self.maxRequestBytes) } catch {
                    throw ESTFailure(
                        .contentTooLarge,
                        "the request is larger than \(Self.maxRequestBytes) bytes or unreadable"
                    )
                }
                csr = try ESTMessages.csr(body)
            } catch {
                // Refused before the enrollment service saw it: audited here.
                await enrollment.auditRefusal(
                    protocolName: .est,
                    profile: profile,
                    operation: operation,
                    client: "anonymous from \(context.clientAddress)",
                    reason: "\(error.status.code): \(error.message)",
                    requestID: context.id
                )
                throw error
            }
            if serverKeyGeneration { return try await generateKey(csr: csr, request, context, profile: profile) }
            return try await enroll(csr: csr, request, context, profile: profile, operation: operation)
        } catch {
            return error.response
        }
    }

    /// Enrolls a parsed request (the service audits every outcome) and answers in EST's terms.
    private func enroll(
        csr: [UInt8],
        _ request: Request,
        _ context: CustosRequestContext,
        profile: String,
        operation: EnrollmentRequest.Operation
    ) async throws(ESTFailure) -> Response {
        let outcome: EnrollmentOutcome
        let enrollmentRequest = await Self.enrollmentRequest(
            csr,
            request,
            context,
            profile: profile,
            operation: operation
        )
        do throws(EnrollmentError) {
            outcome = try await enrollment.enroll(enrollmentRequest)
        } catch {
            throw ESTFailure(error, profile: profile)
        }
        switch outcome {
        case .issued(let record, _):
            // RFC 7030 section 4.2.3: the answer holds the issued certificate only (cacerts gives the chain).
            do { return try ESTMessages.certsOnly([record.der]) } catch {
                throw ESTFailure(.internalServerError, "the answer cannot be encoded: \(error)")
            }
        case .pending(let held):
            var response = Response(status: .accepted, headers: [.retryAfter: "\(retryAfterSeconds)"])
            response.headers[.contentType] = "text/plain; charset=utf-8"
            response.body = .init(
                byteBuffer: .init(string: "request \(held.id) waits for approval; send it again later\n")
            )
            return response
        }
    }

    /// Makes a key for a parsed request (the service audits every outcome).
    private func generateKey(csr: [UInt8], _ request: Request, _ context: CustosRequestContext, profile: String)
        async throws(ESTFailure) -> Response
    {
        let generated: EnrollmentService.ServerGeneratedKey
        let enrollmentRequest = await Self.enrollmentRequest(
            csr,
            request,
            context,
            profile: profile,
            operation: .enroll
        )
        do throws(EnrollmentError) {
            generated = try await enrollment.generateKey(for: enrollmentRequest)
        } catch {
            throw ESTFailure(error, profile: profile)
        }
        do {
            return try ESTMessages.serverGeneratedKey(
                envelope: generated.envelope,
                certificate: generated.record.der,
                boundary: "custos-\(context.id)"
            )
        } catch {
            throw ESTFailure(.internalServerError, "the answer cannot be encoded: \(error)")
        }
    }

    /// An EST request for the enrollment service: the CSR with the client's HTTP Basic credentials and
    /// TLS client certificate.
    private static func enrollmentRequest(
        _ csr: [UInt8],
        _ request: Request,
        _ context: CustosRequestContext,
        profile: String,
        operation: EnrollmentRequest.Operation
    ) async -> EnrollmentRequest {
        let basic = ESTMessages.basicCredentials(request)
        let certificate = await context.tlsClientCertificate()
        return EnrollmentRequest(
            profile: profile,
            protocolName: .est,
            operation: operation,
            csr: csr,
            credentials: ClientCredentials(
                username: basic?.user,
                password: basic?.password,
                certificateChain: certificate.map { [$0] } ?? []
            ),
            requestID: context.id
        )
    }

    /// Runs `body` for the path's profile and turns a refusal into EST's text answer.
    private func answer(
        _ context: CustosRequestContext,
        _ body: (String) async throws(ESTFailure) -> Response
    ) async -> Response {
        let profile = context.parameters.get("profile") ?? "default"
        do { return try await body(profile) } catch { return error.response }
    }

    /// The profile, if it offers EST.
    private func estProfile(_ id: String) async throws(ESTFailure) -> EnrollmentProfile {
        let profile = try await Self.est(id) { () throws(EnrollmentError) in try await enrollment.profile(id) }
        guard profile.protocols.contains(.est) else {
            throw ESTFailure(.notFound, "unknown_profile: profile \(id) does not offer EST")
        }
        return profile
    }

    /// An enrollment call with its error as EST's.
    private static func est<T>(_ profile: String, _ body: () async throws(EnrollmentError) -> T)
        async throws(ESTFailure)
        -> T
    {
        do { return try await body() } catch { throw ESTFailure(error, profile: profile) }
    }
}
