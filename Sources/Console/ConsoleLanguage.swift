import Foundation

/// The languages the console speaks. German first among equals: the factories that run Custos read it.
public enum ConsoleLanguage: String, Sendable, CaseIterable {
    case en, de

    /// The language a request asks for: an explicit choice (the `lang` cookie or query), else the best
    /// of `Accept-Language` (RFC 9110 section 12.5.4, by quality value), else English.
    public static func pick(chosen: String?, acceptLanguage: String?) -> ConsoleLanguage {
        if let chosen, let language = ConsoleLanguage(rawValue: chosen) { return language }
        guard let acceptLanguage else { return .en }
        var best: (language: ConsoleLanguage, quality: Double)?
        for item in acceptLanguage.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let range = parts.first, !range.isEmpty else { continue }
            let primary = range.split(separator: "-").first.map { String($0).lowercased() } ?? ""
            guard let language = ConsoleLanguage(rawValue: primary) else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            if quality > 0, quality > (best?.quality ?? 0) { best = (language, quality) }
        }
        return best?.language ?? .en
    }
}
