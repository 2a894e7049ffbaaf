"""Infrastructure without business vocabulary: database base, errors, access policy, time helpers."""
