import Codecs
import CustosTestSupport
import Foundation
import Testing

/// The DNS codec against dnspython (Debian's python3-dnspython): queries it writes are read by
/// dnspython as meant, and answers dnspython writes (compressed names, CNAME chains, TXT strings) are
/// read as dnspython wrote them.
@Suite struct DNSMessageTests {
    static func python(_ script: String, _ arguments: [String] = []) throws -> String {
        let result = try runCommand("/usr/bin/python3", ["-c", script] + arguments)
        try #require(result.status == 0, "python: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: [
        ("_acme-challenge.www.example.com", DNSMessage.RecordType.txt, "TXT"), ("Host.Example.ORG.", .a, "A"),
        ("v6.example", .aaaa, "AAAA"), ("example.com", .caa, "CAA"),
    ])
    func queriesReadAsMeant(name: String, type: DNSMessage.RecordType, typeName: String) throws {
        let query = try DNSMessage.query(id: 0xBEEF, name: name, type: type)
        let read = try Self.python(
            """
            import sys, dns.message
            m = dns.message.from_wire(bytes.fromhex(sys.argv[1]))
            q = m.question[0]
            print(m.id, q.name.to_text(), dns.rdatatype.to_text(q.rdtype), bool(m.flags & dns.flags.RD), m.edns, m.payload)
            """,
            [Hex.encode(query)]
        )
        let fqdn = name.lowercased().hasSuffix(".") ? name.lowercased() : name.lowercased() + "."
        #expect(read.lowercased() == "48879 \(fqdn) \(typeName.lowercased()) true 0 1232", "\(read)")
    }

    @Test func answersReadAsDnspythonWroteThem() throws {
        let hex = try Self.python(
            """
            import dns.message, dns.rrset
            q = dns.message.make_query("www.example.com", "A")
            r = dns.message.make_response(q)
            r.answer.append(dns.rrset.from_text("www.example.com.", 60, "IN", "CNAME", "edge.example.net."))
            r.answer.append(dns.rrset.from_text("edge.example.net.", 60, "IN", "A", "192.0.2.7", "192.0.2.8"))
            r.answer.append(dns.rrset.from_text("_acme-challenge.example.com.", 60, "IN", "TXT", '"abc" "def"', '"xyz"'))
            r.answer.append(dns.rrset.from_text("edge.example.net.", 60, "IN", "AAAA", "2001:db8::1"))
            print(r.to_wire().hex())
            """
        )
        let response = try DNSMessage.response(try #require(Hex.decode(hex)))
        #expect(response.responseCode == 0 && !response.truncated)
        #expect(Set(response.records(.a, for: "WWW.example.com.").map(\.data)) == [[192, 0, 2, 7], [192, 0, 2, 8]])
        #expect(response.records(.aaaa, for: "www.example.com").first?.data.count == 16)
        #expect(
            Set(response.records(.txt, for: "_acme-challenge.example.com").compactMap(\.text)) == ["abcdef", "xyz"]
        )
        #expect(response.records(.txt, for: "www.example.com").isEmpty)
    }

    @Test func nxdomainAndTruncationAreReported() throws {
        let hex = try Self.python(
            """
            import dns.message, dns.rcode, dns.flags
            r = dns.message.make_response(dns.message.make_query("gone.example", "TXT"))
            r.set_rcode(dns.rcode.NXDOMAIN)
            r.flags |= dns.flags.TC
            print(r.to_wire().hex())
            """
        )
        let response = try DNSMessage.response(try #require(Hex.decode(hex)))
        #expect(response.responseCode == 3 && response.truncated && response.answers.isEmpty)
    }

    @Test func brokenMessagesAreRefused() throws {
        let header: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0]
        let broken: [[UInt8]] = [
            [0, 1, 0x81],  // short header
            [0, 1, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0],  // a query, not a response
            header + [0xC0, 0x0C],  // a pointer to itself
            header + [3, 0x61, 0x62],  // a label cut short
            header + [0, 0, 1, 0, 1, 0, 0, 0, 60, 0, 9, 1],  // data cut short
            header + [0x40, 0],  // an unknown label type
        ]
        for bytes in broken {
            #expect(throws: DNSMessage.FormatError.self, "\(bytes)") { _ = try DNSMessage.response(bytes) }
        }
        #expect(throws: DNSMessage.FormatError.self) {
            _ = try DNSMessage.query(id: 1, name: String(repeating: "a", count: 64) + ".test", type: .a)
        }
    }
}
