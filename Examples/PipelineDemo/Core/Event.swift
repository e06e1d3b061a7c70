/// What a user did, as one NDJSON line describes it.
///
/// ```json
/// {"id":17,"ts":"2026-03-01T09:12:44Z","user":"u042","type":"purchase","sku":"SKU-07","amount_cents":1299}
/// ```
public struct Event: Sendable, Equatable {
    /// What kind of event it is.
    public enum Kind: String, Sendable, CaseIterable {
        case view, cart, purchase, refund
    }

    /// The event's id.
    public var id: Int
    /// When it happened (ISO 8601, as given).
    public var timestamp: String
    /// Who did it (`u001`…).
    public var user: String
    /// What kind of event it is.
    public var kind: Kind
    /// The product, if any.
    public var sku: String?
    /// Money moved, in cents (zero for views and carts).
    public var amountCents: Int
    /// The input line it came from.
    public var line: Int

    /// Revenue effect in cents: purchases add, refunds subtract, others nothing.
    public var revenueCents: Int {
        switch kind {
        case .purchase: return amountCents
        case .refund: return -amountCents
        case .view, .cart: return 0
        }
    }
}
