/// A request or answer body of the HTTP API, shared by the server and the CLI. Each has an example
/// with every field set, which `OpenAPIDocumentTests` encodes and compares with the schema of the same
/// name in `docs/openapi.yaml`, so the document, the server and the CLI agree on one shape.
public protocol APIModel: Codable, Sendable {
    /// A value with every optional field set.
    static var example: Self { get }
}

/// Every API model, for the test that compares each with its schema in `docs/openapi.yaml`.
public let allAPIModels: [any APIModel.Type] = [
    CreateCABody.self, CACertificateBody.self, RenewCABody.self, ImportCABody.self, ImportCeremonyBody.self,
    CAView.self, CAList.self, CertificateView.self, RenewCertificateBody.self, RevokeBody.self, IssueBody.self,
]
