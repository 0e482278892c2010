"""Stock events in from a stream: one consumer core, an adapter per engine."""
