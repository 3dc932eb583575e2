extension Duration {
    /// The whole duration in nanoseconds: for NIO's time amounts and the store's clock, here and in the
    /// modules above (`Enrollment`'s ACME code, the server's request metrics).
    package var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
