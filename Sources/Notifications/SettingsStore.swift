import MetadataStore

/// Reads and writes of notification and action settings, with the store's errors as
/// `NotificationError`s (the API's codes).
protocol SettingsStore {
    var store: any MetadataBackend { get }
}

extension SettingsStore {
    func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReading) throws -> T)
        async throws(NotificationError) -> T
    {
        do { return try await store.read(body) } catch { throw NotificationError.from(error) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriting) throws -> T)
        async throws(NotificationError) -> T
    {
        do { return try await store.write(body) } catch { throw NotificationError.from(error) }
    }
}
