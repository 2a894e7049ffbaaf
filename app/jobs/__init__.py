"""RQ plumbing (the layer below the features; it imports none of them): named queues and the `@job` declaration,
enqueue after commit, inline fallback when Redis is unreachable (queue.py); tracked rows that features register
(registry.py), their one lifecycle and the reconciler (tracked.py), their progress (progress.py)."""
