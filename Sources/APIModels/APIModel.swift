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
    CreateUpstreamCABody.self, UpstreamLinkView.self,
    CAView.self, CAList.self, CertificateView.self, RenewCertificateBody.self, RevokeBody.self, IssueBody.self,
    CreateNamespaceBody.self, VaultNamespaceView.self, VaultRotationProgress.self, VaultNamespacePage.self,
    WriteSecretBody.self, SecretMetadataBody.self, VaultSecretView.self, VaultSecretPage.self, DestroyedVersions.self,
    CreateVaultKeyBody.self, ExportVaultKeyBody.self, ExportedVaultKey.self, VaultKeyView.self, VaultKeyPage.self,
    TransportKeyView.self, ErrorBody.self, ErrorDetail.self, CreateKeyBody.self, KeyCertificateBody.self,
    KeyCertificateRequestBody.self, KeyCertificateRequestView.self, KeyView.self, KeyList.self,
    CreateCredentialBody.self, CredentialView.self, CredentialList.self, BindCertificateBody.self, AuditEntryView.self,
    AuditPage.self,
    HealthStatus.self, CertificateMetadataBody.self, CertificatePage.self, CertificateExpiringAnswer.self,
    ReportCount.self, CertificateSummaryAnswer.self, BulkRevokeBody.self, BulkRevokeFilter.self, BulkRevokeAnswer.self,
    SignatureItem.self, SignResult.self, VerifyResult.self, ItemError.self, CodeSignBody.self, IssueBatchBody.self,
    CRLView.self, CRLDelta.self, OCSPSignerView.self, EnrollmentAuthenticationBody.self, EnrollmentRenewalBody.self,
    EnrollmentProfileBody.self, EnrollmentProfileView.self, EnrollmentProfilePage.self, OneTimePasswordBody.self,
    EnrollmentSecretView.self, EnrollmentSecretList.self, EnrollmentRequestView.self, EnrollmentRequestPage.self,
    RejectEnrollmentBody.self, DeviceKeyPKCS12Body.self, GenerateDeviceKeyBody.self, DeviceKeyAnswer.self,
    EnrollmentACMEBody.self, EnrollmentCMPBody.self, ACMEAccountView.self, ACMEAccountPage.self, ACMEOrderView.self,
    ACMEOrderList.self,
    ACMEExternalKeyBody.self, ACMEExternalKeyView.self, ACMEExternalKeyList.self,
    VaultSecretReference.self, WebhookChannelBody.self, MailChannelBody.self, NotificationChannelBody.self,
    NotificationChannelList.self, ExpiryStageBody.self, ExpiryRuleBody.self, ReportRuleBody.self,
    NotificationRuleBody.self, RenewRuleBody.self, NotificationRuleList.self, NotificationView.self,
    NotificationPage.self,
    RevokeActionBody.self, ActionBody.self, ActionList.self, RunActionBody.self, ActionRunView.self,
]
