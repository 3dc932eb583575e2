/// What the server answers to GetCACaps (RFC 8894 section 3.5.2): one keyword per line.
public enum SCEPCapabilities {
    /// AES and SHA-256 (which SCEPStandard implies), POST, renewal with the certificate being renewed,
    /// SHA-384 and SHA-512. DES3 and SHA-1 are accepted from older clients but not advertised.
    /// (strongSwan 5.9's `pki --scep` tests capabilities by bit index rather than mask, so that it sees
    /// SHA-256, AES and Renewal only when SHA-384 is listed: listing it, which is true, lets it enroll.)
    public static let advertised = [
        "AES", "POSTPKIOperation", "Renewal", "SCEPStandard", "SHA-256", "SHA-384", "SHA-512",
    ]

    /// The GetCACaps body.
    public static var text: String { advertised.joined(separator: "\n") + "\n" }
}
