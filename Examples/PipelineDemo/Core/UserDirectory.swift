/// A user directory behind a slow "remote" service, with a cache: the async lookup the enrich domain
/// awaits.
///
/// A cache miss costs `latency` (a real `Task.sleep`, during which other messages progress on the
/// worker); a hit is immediate. Users `u001`–`u899` exist; any other id throws ``UnknownUserError``.
public actor UserDirectory {
    private let latency: Duration
    private var cache: [String: UserProfile] = [:]
    /// Lookups served from the cache.
    public private(set) var hits = 0
    /// Lookups that went to the "remote" service.
    public private(set) var remoteLookups = 0

    /// A directory whose cache misses take `latency`.
    public init(latency: Duration) {
        self.latency = latency
    }

    /// The profile of `user`; `line` only labels the error.
    public func profile(for user: String, line: Int) async throws -> UserProfile {
        if let cached = cache[user] {
            hits += 1
            return cached
        }
        remoteLookups += 1
        try await Task.sleep(for: latency)
        // The actor is reentrant: another message may have filled the cache while this one slept.
        if let cached = cache[user] { return cached }
        guard let profile = Self.remoteRecord(for: user) else {
            throw UnknownUserError(user: user, line: line)
        }
        cache[user] = profile
        return profile
    }

    /// What the remote service knows: a deterministic profile for `u001`…`u899`, nothing else.
    public static func remoteRecord(for user: String) -> UserProfile? {
        guard user.count == 4, user.first == "u", let number = Int(user.dropFirst()), (1...899).contains(number)
        else { return nil }
        let countries = ["DE", "FR", "ES", "IT", "NL", "PL", "SE", "US"]
        return UserProfile(
            user: user,
            country: countries[number % countries.count],
            tier: UserProfile.Tier.allCases[number % UserProfile.Tier.allCases.count]
        )
    }
}
