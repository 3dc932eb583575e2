import CustosTestSupport
import Foundation
import Testing

@testable import Mail

/// Custos' SMTP reply parser and MIME encoder, the latter compared with Python's email package.
@Suite struct MailCodecTests {
    @Test func repliesAreGatheredAcrossLinesAndReads() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed(Array("250-relay.example\r\n250-AUTH PLAIN LO".utf8)).isEmpty)
        let replies = try parser.feed(Array("GIN\r\n250 STARTTLS\r\n354 go ahead\r\n220\r\n".utf8))
        #expect(
            replies == [
                SMTPReply(code: 250, lines: ["relay.example", "AUTH PLAIN LOGIN", "STARTTLS"]),
                SMTPReply(code: 354, lines: ["go ahead"]), SMTPReply(code: 220, lines: [""]),
            ]
        )
        // Bare LF ends a line too; anything but three digits and a separator is refused.
        #expect(try parser.feed(Array("221 bye\n".utf8)) == [SMTPReply(code: 221, lines: ["bye"])])
        for malformed in ["hello\r\n", "25 short\r\n", "250*star\r\n"] {
            var fresh = SMTPReplyParser()
            #expect(throws: SMTPReplyParser.Failure.self) { try fresh.feed(Array(malformed.utf8)) }
        }
        var long = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Failure.self) { try long.feed([UInt8](repeating: 65, count: 5000)) }
    }

    @Test func dataIsDotStuffed() {
        let stuffed = SMTPClient.dotStuffed(Array(".first\r\nmiddle\r\n.\r\n..two\r\n".utf8))
        #expect(stuffed == "..first\r\nmiddle\r\n..\r\n...two\r\n.")
    }

    @Test func addressesThatCouldBreakACommandOrHeaderAreRefused() {
        for good in ["pki@example.com", "first.last+tag@sub.example.org"] { #expect(MailMessage.isValidAddress(good)) }
        for bad in [
            "", "no-at", "a@b", "a@@b.c", "a b@c.d", "a@b.c\r\nRCPT TO:<x@y.z>", "<a@b.c>", "a@b.c>", "Ann <a@b.c>",
            "a@.b.c", "a@b.c.", "é@b.c",
        ] {
            #expect(!MailMessage.isValidAddress(bad), "\(bad)")
        }
    }

    @Test func pythonsEmailPackageReadsWhatTheEncoderWrites() async throws {
        let directory = try makeTemporaryDirectory("mime")
        let csv = Array("ca,serial\r\nline,0a1b\r\n".utf8)
        let binary: [UInt8] = (0..<256).map { UInt8($0) }
        let message = MailMessage(
            from: "custos@example.com",
            to: ["pki@example.com", "ops@example.com"],
            subject: "Zertifikat läuft ab\r\nBcc: injected@example.com",
            text: ".a line that starts with a dot\nÜnïcödé and a long line " + String(repeating: "x", count: 300),
            attachments: [
                .init(filename: "report.csv", contentType: "text/csv", data: csv),
                .init(filename: "blob\".bin", contentType: "application/octet-stream", data: binary),
            ],
            messageID: "0123abcd@custos",
            date: Date(timeIntervalSince1970: 1_800_000_000)
        )
        let rendered = message.rendered()
        let long = String(decoding: rendered, as: UTF8.self).components(separatedBy: "\r\n").filter {
            $0.utf8.count > 78
        }
        #expect(long.isEmpty, "lines over 78 characters: \(long)")
        try Data(rendered).write(to: URL(fileURLWithPath: "\(directory)/message.eml"))
        let script = """
            import email, email.policy, json, sys
            m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
            parts = [p for p in m.walk() if not p.is_multipart()]
            print(json.dumps({
                "from": str(m["From"]), "to": str(m["To"]), "subject": str(m["Subject"]), "bcc": m["Bcc"],
                "date": str(m["Date"]), "id": str(m["Message-ID"]), "defects": len(m.defects),
                "text": parts[0].get_content(),
                "files": [[p.get_filename(), p.get_content_type(), list(p.get_payload(decode=True))] for p in parts[1:]],
            }))
            """
        try script.write(toFile: "\(directory)/read.py", atomically: true, encoding: .utf8)
        let result = try await runClient("/usr/bin/python3", ["\(directory)/read.py", "\(directory)/message.eml"])
        let read = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            "\(result.stderr)"
        )
        #expect(read["from"] as? String == "custos@example.com")
        #expect(read["to"] as? String == "pki@example.com, ops@example.com")
        #expect(read["subject"] as? String == "Zertifikat läuft ab  Bcc: injected@example.com", "\(read)")
        #expect(read["bcc"] is NSNull, "a header was injected: \(read)")
        #expect(read["date"] as? String == "Fri, 15 Jan 2027 08:00:00 +0000")
        #expect(read["id"] as? String == "<0123abcd@custos>" && read["defects"] as? Int == 0)
        #expect(read["text"] as? String == message.text)
        let files = try #require(read["files"] as? [[Any]])
        #expect(files.count == 2)
        #expect(files.first?[0] as? String == "report.csv" && files.first?[1] as? String == "text/csv")
        #expect((files.first?[2] as? [Int])?.map(UInt8.init) == csv)
        #expect(files.last?[0] as? String == "blob.bin" && (files.last?[2] as? [Int])?.map(UInt8.init) == binary)
    }
}
