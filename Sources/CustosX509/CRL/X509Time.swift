public import SwiftASN1

/// `Time ::= CHOICE { utcTime UTCTime, generalTime GeneralizedTime }` (RFC 5280 section 4.1.2.5 and
/// 5.1.2.4): UTCTime (`YYMMDDHHMMSSZ`) for dates through 2049, GeneralizedTime (`YYYYMMDDHHMMSSZ`)
/// from 2050, whole seconds, always UTC.
///
/// CRLs hold one time per revoked certificate, so this writes the bytes directly from the seconds
/// since 1970 with integer arithmetic rather than through a calendar.
public struct X509Time: DERSerializable, Sendable, Hashable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public let seconds: Int64

    public init(secondsSince1970 seconds: Int64) { self.seconds = seconds }

    /// From nanoseconds since 1970 (the store's unit), truncated to seconds.
    public init(nanoseconds: Int64) {
        seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
    }

    public func serialize(into coder: inout DER.Serializer) throws {
        let (year, month, day) = Self.civil(days: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let second = ((seconds % 86_400) + 86_400) % 86_400
        var text: [UInt8] = []
        text.reserveCapacity(15)
        func two(_ value: Int64) {
            text.append(UInt8(48 + value / 10))
            text.append(UInt8(48 + value % 10))
        }
        let utc = (1950...2049).contains(year)
        if utc {
            two(year % 100)
        } else {
            two(year / 100)
            two(year % 100)
        }
        two(month)
        two(day)
        two(second / 3600)
        two(second / 60 % 60)
        two(second % 60)
        text.append(UInt8(ascii: "Z"))
        coder.appendPrimitiveNode(identifier: utc ? .utcTime : .generalizedTime) { $0.append(contentsOf: text) }
    }

    /// `seconds` since 1970 as a GeneralizedTime, whatever the year (CRL invalidity dates, RFC 5280
    /// section 5.3.2; every OCSP time, RFC 6960 section 4.2.2.1): whole seconds, UTC.
    public static func generalizedTime(_ seconds: Int64) throws -> GeneralizedTime {
        let (year, month, day) = civil(days: seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let second = ((seconds % 86_400) + 86_400) % 86_400
        return try GeneralizedTime(
            year: Int(year),
            month: Int(month),
            day: Int(day),
            hours: Int(second / 3600),
            minutes: Int(second / 60 % 60),
            seconds: Int(second % 60),
            fractionalSeconds: 0
        )
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    public static func civil(days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
