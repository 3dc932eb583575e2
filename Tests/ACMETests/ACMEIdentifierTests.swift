import ACME
import Testing

/// Identifiers as orders name them (RFC 8555 section 9.7.7, RFC 8738): names lower-cased, wildcards
/// only leftmost, addresses in canonical text, and their reverse names for tls-alpn-01.
@Suite struct ACMEIdentifierTests {
    @Test func namesAndWildcards() throws {
        let name = try ACMEIdentifier(json: ["type": "dns", "value": "WWW.Example.COM"])
        #expect(name.value == "www.example.com" && !name.isWildcard && name.description == "dns:www.example.com")
        let wildcard = try ACMEIdentifier(kind: .dns, value: "*.apps.example.com")
        #expect(wildcard.isWildcard && wildcard.authorizationValue == "apps.example.com")
        for bad in ["", "a..b", "-a.b", "a-.b", "*.com", "a.*.b", "exa mple.com", "1.2.3.4", "ü.example", "a.b."] {
            #expect(throws: ACMEProblem.self, "\(bad)") { _ = try ACMEIdentifier(kind: .dns, value: bad) }
        }
        #expect(throws: ACMEProblem.self) {
            _ = try ACMEIdentifier(kind: .dns, value: String(repeating: "a.", count: 127) + "aa")
        }
        do {
            _ = try ACMEIdentifier(json: ["type": "email", "value": "a@b.c"])
            Issue.record("an email identifier was read")
        } catch { #expect(error.kind == .unsupportedIdentifier) }
        #expect(throws: ACMEProblem.self) { _ = try ACMEIdentifier(json: ["type": "dns"]) }
    }

    @Test func addressesInCanonicalFormAndTheirReverseNames() throws {
        let v4 = try ACMEIdentifier(kind: .ip, value: "192.0.2.10")
        #expect(v4.addressBytes == [192, 0, 2, 10] && v4.reverseName == "10.2.0.192.in-addr.arpa")
        let v6 = try ACMEIdentifier(kind: .ip, value: "2001:0DB8:0000:0000:0000:0000:0000:0001")
        #expect(v6.value == "2001:db8::1" && v6.addressBytes?.count == 16)
        #expect(v6.reverseName == "1." + String(repeating: "0.", count: 23) + "8.b.d.0.1.0.0.2.ip6.arpa")
        for bad in ["256.1.1.1", "1.2.3", "::g", "example.com", ""] {
            #expect(throws: ACMEProblem.self, "\(bad)") { _ = try ACMEIdentifier(kind: .ip, value: bad) }
        }
        #expect(try ACMEIdentifier(text: "ip:10.0.0.1") == ACMEIdentifier(kind: .ip, value: "10.0.0.1"))
    }
}
