import Codecs
import Foundation
import Testing

/// The fast reader of issuance bodies means what `JSONDecoder` means, or steps aside.
@Suite struct FlatJSONTests {
    /// The shape of an issuance request, read both ways.
    struct Body: Decodable, Equatable {
        var csr: String
        var category: String
        var validityDays: Int?
        var metadata: [String: String]?

        init?(flat members: [String: FlatJSON.Value]) {
            guard case .string(let csr) = members["csr"], case .string(let category) = members["category"] else {
                return nil
            }
            (self.csr, self.category) = (csr, category)
            switch members["validityDays"] {
            case nil, .null: validityDays = nil
            case .integer(let days): validityDays = days
            default: return nil
            }
            switch members["metadata"] {
            case nil, .null: metadata = nil
            case .strings(let pairs): metadata = pairs
            default: return nil
            }
        }
    }

    static let csr = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBOz\u{2F}+AA==\n-----END CERTIFICATE REQUEST-----"

    /// Bodies the fast path reads itself: it must give exactly what `JSONDecoder` gives.
    static let read: [String] = [
        #"{"csr":"a","category":"device"}"#,
        #"  {  "category" : "tls-server" ,"csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\/+x\r\n\t\"q\" \\ -----END"}  "#,
        #"{"csr":"x","category":"device","validityDays":30,"metadata":{"line":"3","batch":"2026-11\/7"}}"#,
        #"{"csr":"x","category":"device","validityDays":-4}"#,
        #"{"csr":"x","category":"device","validityDays":0,"metadata":{}}"#,
        #"{"csr":"x","category":"device","validityDays":null,"metadata":null}"#,
        #"{"csr":"x","category":"device","validityDays":999999999999999999}"#,
        #"{"csr":"Ünïcödé 😀","category":"device","comment":"unknown keys are ignored","n":7,"o":{"k":"v"}}"#,
        "{\n\t\"csr\": \"x\",\r\n\t\"category\": \"device\"\n}\n",
    ]

    /// Bodies it leaves to `JSONDecoder` (which reads some of them and refuses the rest).
    static let deferred: [String] = [
        #"{"csr":"x","category":"device","validityDays":30.0}"#,
        #"{"csr":"x","category":"device","validityDays":3e1}"#,
        #"{"csr":"x","category":"device","validityDays":030}"#,
        #"{"csr":"x","category":"device","validityDays":-}"#,
        #"{"csr":"x","category":"device","validityDays":9999999999999999999}"#,
        #"{"csr":"x","category":"device","validityDays":"30"}"#,
        #"{"csr":"\u0041","category":"device"}"#,
        #"{"csr":"\b\f","category":"device"}"#,
        #"{"csr":"x","category":"device","metadata":{"line":3}}"#,
        #"{"csr":"x","category":"device","metadata":{"a":{"b":"c"}}}"#,
        #"{"csr":"x","category":"device","metadata":{"a":null}}"#,
        #"{"csr":"x","category":"device","metadata":["a"]}"#,
        #"{"csr":"x","category":"device","tags":["a"]}"#,
        #"{"csr":"x","category":"device","flag":true}"#,
        #"{"csr":"x","csr":"y","category":"device"}"#,
        #"{"csr":"x"}"#,
        #"{"csr":7,"category":"device"}"#,
        #"{"csr":"x","category":"device",}"#,
        #"{"csr":"x","category":"device"} {}"#,
        #"{"csr":"x","category":"device""#,
        #"{"csr":"x,"category":"device"}"#,
        #"["csr"]"#,
        "{\"csr\":\"tab\there\",\"category\":\"device\"}",
        "{\"csr\":\"\u{7}\",\"category\":\"device\"}",
        "",
        "null",
    ]

    static func fast(_ text: String) -> Body? {
        Array(text.utf8).withUnsafeBytes { FlatJSON.object($0) }.flatMap { Body(flat: $0) }
    }

    static func decoder(_ text: String) -> Body? {
        try? JSONDecoder().decode(Body.self, from: Data(text.utf8))
    }

    @Test func readsTheCommonShapeAsJSONDecoderDoes() throws {
        for text in Self.read {
            let fast = try #require(Self.fast(text), "the fast path should read \(text)")
            #expect(fast == Self.decoder(text), "\(text)")
        }
        let escaped = try #require(Self.fast(Self.read[1]))
        #expect(escaped.csr.contains("MIIB/+x\r\n\t\"q\" \\ -----END"))
        #expect(Self.fast(Self.read[2])?.metadata == ["line": "3", "batch": "2026-11/7"])
    }

    @Test func leavesEverythingElseToJSONDecoder() {
        for text in Self.deferred {
            #expect(Self.fast(text) == nil, "\(text)")
        }
        // Some of those are fine JSON that JSONDecoder reads: the fast path only stepped aside.
        #expect(Self.decoder(Self.deferred[6])?.csr == "A")
    }

    @Test func aBodyCutAnywhereIsNeverReadDifferently() {
        let body =
            #"{"csr":"\#(Self.csr.replacingOccurrences(of: "\n", with: "\\n"))","category":"device","validityDays":30,"metadata":{"line":"3"}}"#
        let bytes = Array(body.utf8)
        for length in 0...bytes.count {
            let text = String(decoding: bytes.prefix(length), as: UTF8.self)
            if let fast = Self.fast(text) { #expect(fast == Self.decoder(text), "cut at \(length)") }
        }
        #expect(Self.fast(body) != nil && Self.fast(body) == Self.decoder(body))
    }
}
