import Codecs
import Foundation
import Testing

/// HTTP dates for caching headers are what a `DateFormatter` in the RFC 9110 format writes.
@Suite struct HTTPDateTests {
    @Test func formatsAsDateFormatterDoes() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        var generator = SystemRandomNumberGenerator()
        let samples: [Int64] =
            [0, 784_111_777, 951_782_400, 4_102_444_799]
            + (0..<200).map { _ in Int64.random(in: 0...4_102_444_799, using: &generator) }
        for seconds in samples {
            #expect(
                HTTPDate.format(seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))),
                "\(seconds)"
            )
        }
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
