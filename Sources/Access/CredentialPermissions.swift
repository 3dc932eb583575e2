public import MetadataStore

/// What a credential may do: its role, its tenant, the keys it may sign with and the vault namespaces
/// it may use. The server asks these on every route; the messages name what was needed.
extension CredentialRecord {
    /// Refuses unless the credential has one of `roles`.
    public func require(_ roles: [Role]) throws(AccessError) {
        guard roles.contains(role) else { throw Self.refusal(roles, credential: self) }
    }

    /// The refusal of a request that needs one of `roles`, with the role the credential has, if any.
    public static func refusal(_ roles: [Role], credential: CredentialRecord?) -> AccessError {
        AccessError(
            .forbidden,
            "this route needs the role \(roles.map(\.rawValue).joined(separator: " or "))"
                + (credential.map { "; this credential is \($0.role.rawValue)" } ?? "")
        )
    }

    /// Refuses when the credential is limited to a tenant other than `tenant`.
    public func require(tenant: String) throws(AccessError) {
        if let limit = self.tenant, limit != tenant {
            throw AccessError(.forbidden, "this credential is limited to tenant \"\(limit)\"")
        }
    }

    /// Refuses unless the credential is a signer allowed to use the key `name`.
    public func requireSigner(for name: String) throws(AccessError) {
        try require([.signer])
        guard permits(key: name) else {
            throw AccessError(.forbidden, "this credential may not sign with key \"\(name)\"")
        }
    }

    /// Whether a signer credential may use the key `name`: a pattern is a name, or a prefix ending in `*`.
    public func permits(key name: String) -> Bool {
        role == .signer && Self.matches(keyPatterns, name)
    }

    /// Whether the credential may read and write secrets in the vault namespace `name`: administrators
    /// everywhere, vault credentials where one of their patterns matches.
    public func permits(namespace name: String) -> Bool {
        role == .admin || (role == .vault && Self.matches(keyPatterns, name))
    }

    /// Whether the credential may run the action `name`: administrators and officers any (their tenant
    /// is checked with the action), trigger credentials those one of their patterns matches.
    public func permits(action name: String) -> Bool {
        role == .admin || role == .officer || (role == .trigger && Self.matches(keyPatterns, name))
    }

    private static func matches(_ patterns: [String], _ name: String) -> Bool {
        patterns.contains { pattern in
            pattern == "*" || pattern == name || (pattern.hasSuffix("*") && name.hasPrefix(pattern.dropLast()))
        }
    }
}
