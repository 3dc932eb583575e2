import CustosTestSupport
import Foundation
import Hummingbird
import Testing

@testable import Server

/// The `serverkeygen` answer's framing (RFC 7030 section 4.4.2), read by Python's MIME parser: two
/// parts with the media types RFC 7030 names, base64 bodies that are the EnvelopedData (which OpenSSL
/// decrypts back to the PKCS#8 key it holds) and a certs-only PKCS#7 with the certificate. The token
/// that would wrap the key is not needed to check the frame: OpenSSL makes the same EnvelopedData here.
@Suite struct ServerGeneratedKeyAnswerTests {
    @Test func theMultipartAnswerReadsInAMIMEParserAndOpenSSL() async throws {
        let directory = try makeTemporaryDirectory("skg")
        func openssl(_ arguments: [String]) throws {
            let result = try runCommand("openssl", arguments, currentDirectory: directory)
            try #require(result.status == 0, "openssl \(arguments): \(result.stderr)")
        }
        try openssl([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.pem", "-subj",
            "/CN=client", "-days", "1",
        ])
        try openssl(["x509", "-in", "client.pem", "-outform", "DER", "-out", "client.der"])
        try openssl([
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-outform", "DER", "-out",
            "device.der",
        ])
        try openssl([
            "cms", "-encrypt", "-binary", "-aes256", "-in", "device.der", "-outform", "DER", "-out", "envelope.der",
            "client.pem",
        ])
        let envelope = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/envelope.der")))
        let certificate = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/client.der")))
        let response = try ESTMessages.serverGeneratedKey(
            envelope: envelope,
            certificate: certificate,
            boundary: "b-42"
        )
        #expect(response.headers[.contentType] == "multipart/mixed; boundary=b-42")
        let body = try ESTMessages.serverGeneratedKeyBody(
            envelope: envelope,
            certificate: certificate,
            boundary: "b-42"
        )
        let message = "Content-Type: multipart/mixed; boundary=b-42\r\n\r\n" + body
        try message.write(toFile: "\(directory)/answer.eml", atomically: true, encoding: .utf8)
        let script = """
            import email, sys
            message = email.message_from_binary_file(open(sys.argv[1], "rb"))
            parts = message.get_payload()
            assert len(parts) == 2, len(parts)
            print(parts[0].get_content_type(), parts[0].get_param("smime-type"))
            print(parts[1].get_content_type(), parts[1].get_param("smime-type"))
            open("key.p7", "wb").write(parts[0].get_payload(decode=True))
            open("certs.p7", "wb").write(parts[1].get_payload(decode=True))
            """
        try script.write(toFile: "\(directory)/read.py", atomically: true, encoding: .utf8)
        let parsed = try runCommand("python3", ["read.py", "answer.eml"], currentDirectory: directory)
        #expect(parsed.status == 0, "\(parsed.stderr)")
        #expect(
            parsed.stdout == "application/pkcs7-mime server-generated-key\napplication/pkcs7-mime certs-only\n",
            "\(parsed.stdout)"
        )
        try openssl([
            "cms", "-decrypt", "-binary", "-inform", "DER", "-in", "key.p7", "-recip", "client.pem", "-inkey",
            "client.key", "-out", "opened.der",
        ])
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: "\(directory)/opened.der"))
                == Data(contentsOf: URL(fileURLWithPath: "\(directory)/device.der"))
        )
        try openssl(["pkcs7", "-inform", "DER", "-in", "certs.p7", "-print_certs", "-out", "certs.pem"])
        let printed = try String(contentsOfFile: "\(directory)/certs.pem", encoding: .utf8)
        #expect(printed.contains("subject=CN = client"), "\(printed)")
    }
}
