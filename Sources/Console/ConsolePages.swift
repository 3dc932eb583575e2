import Foundation
import Mustache

/// A page of the console and the template that renders it.
public enum ConsolePage: String, Sendable, CaseIterable {
    case signin, dashboard, cas, ca, certificates, certificate, error, audit, requests, portalSignin, portal
    case bulkRevoke, listing, record, policy, secret, credentials, newRequest
}

/// The frame around every page: its title, the language, who is signed in and the navigation their role
/// may use.
public struct ConsoleFrame: Sendable {
    /// One entry of the navigation.
    public struct Link: Sendable {
        public var href: String
        /// A key of `ConsoleText`.
        public var label: String
        public var current: Bool
        public init(href: String, label: String, current: Bool) {
            self.href = href
            self.label = label
            self.current = current
        }
    }

    /// The signed-in session, when there is one.
    public struct Session: Sendable {
        public var actor: String
        public var role: String
        public var csrf: String
        public var navigation: [Link]
        /// Where the sign-out form posts.
        public var signOut: String
        public init(actor: String, role: String, csrf: String, navigation: [Link], signOut: String = "/ui/signout") {
            self.actor = actor
            self.role = role
            self.csrf = csrf
            self.navigation = navigation
            self.signOut = signOut
        }
    }

    public var language: ConsoleLanguage
    /// A key of `ConsoleText`, or the title itself when no key matches.
    public var title: String
    public var session: Session?
    /// Where the language switch returns to (a path under `/ui/`).
    public var path: String

    public init(language: ConsoleLanguage, title: String, session: Session?, path: String) {
        self.language = language
        self.title = title
        self.session = session
        self.path = path
    }
}

/// Renders console pages from the templates in `ConsoleTemplates`, inside the layout. Values are
/// dictionaries and arrays of strings, numbers and booleans; every string is HTML-escaped on output.
public struct ConsolePages: Sendable {
    private let library: MustacheLibrary

    public init() throws {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            library.register(try MustacheTemplate(string: text), named: name)
        }
        self.library = library
    }

    /// The HTML of `page` with `values` in `frame`.
    public func render(_ page: ConsolePage, frame: ConsoleFrame, values: [String: Any]) -> String {
        let words = ConsoleText.words(frame.language)
        var context = values
        context["t"] = words
        context["lang"] = frame.language.rawValue
        if let session = frame.session { context["csrf"] = session.csrf }
        let content = library.render(context, withTemplate: page.rawValue) ?? ""
        let other: ConsoleLanguage = frame.language == .en ? .de : .en
        var layout: [String: Any] = [
            "t": words,
            "lang": frame.language.rawValue,
            "otherLang": other.rawValue,
            "title": words[frame.title] ?? frame.title,
            "back": frame.path.addingPercentEncoding(
                withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~/"))
            ) ?? "/ui/",
            "content": content,
        ]
        if let session = frame.session {
            layout["session"] =
                [
                    "actor": session.actor,
                    "role": session.role,
                    "csrf": session.csrf,
                    "signOut": session.signOut,
                    "nav": session.navigation.map {
                        ["href": $0.href, "label": words[$0.label] ?? $0.label, "current": $0.current] as [String: Any]
                    },
                ] as [String: Any]
        }
        return library.render(layout, withTemplate: "layout") ?? ""
    }

    /// `text` with `{name}` placeholders filled from `values` (for words such as "within {days} days").
    public static func fill(_ text: String, _ values: [String: String]) -> String {
        values.reduce(text) { $0.replacingOccurrences(of: "{\($1.key)}", with: $1.value) }
    }
}
